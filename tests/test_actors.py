from bot.engine import actors, normalize

GAZ = actors.by_name([("Barack Obama", "Barack Obama", None), ("Barack Obama", "Obama", None),
                      ("Donald Trump", "Trump", None), ("Mohammed bin Salman", "MBS", None),
                      ("United States", "US", None)])


def test_first_named_is_the_earliest_actor():
    index = actors.NameIndex(GAZ)
    assert index.first_named("Donald Trump said Barack Obama was born abroad.") == "Donald Trump"
    assert index.first_named("A photo shows Obama greeting Trump.") == "Barack Obama"
    assert index.first_named("A video shows a whale in a gym.") == ""


def test_short_caps_aliases_keep_their_case():
    index = actors.NameIndex(GAZ)
    assert index.first_named("Leaked memo: MBS ordered the operation") == "Mohammed bin Salman"
    assert index.first_named("mbs is a file extension") == ""
    text = "tell us what the US did"
    assert index.named(normalize.tokens(text), normalize.clean(text)) == {"United States"}


def test_named_finds_every_actor_once():
    index = actors.NameIndex(GAZ)
    text = "Obama and Trump, then Obama again"
    assert index.named(normalize.tokens(text), normalize.clean(text)) == {"Barack Obama", "Donald Trump"}
