"""The shared context engine: normalisation, matching, the claim/outlet store and card building."""
