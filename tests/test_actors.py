from bot.engine import actors, normalize, actor_roles as role_rules

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


# -- roles ----------------------------------------------------------------------------------------------------
ROWS = [("Iran", "country", "Iran", None), ("Iran", "country", "Iranian", None), ("Iran", "country", "Tehran", None),
        ("Russia", "country", "Russia", None), ("Russia", "country", "Kremlin", None), ("Russia", "country", "Russian", None),
        ("United States", "country", "US", None), ("United States", "country", "American", None),
        ("United States", "country", "White House", None), ("United Kingdom", "country", "Downing Street", None),
        ("China", "country", "Beijing", None), ("Afghanistan", "country", "Afghanistan", None),
        ("Kenya", "country", "Kenya", None), ("Taliban", "organisation", "Taliban", None),
        ("GRU", "organisation", "GRU", "Russia"), ("IRGC", "organisation", "IRGC", "Iran"),
        ("Quds Force", "organisation", "Quds Force", "IRGC"), ("CIA", "organisation", "CIA", "United States"),
        ("Pentagon", "organisation", "Pentagon", "United States"),
        ("Barack Obama", "person", "Obama", None), ("Donald Trump", "person", "Trump", None),
        ("Joe Biden", "person", "Biden", None), ("Pope Francis", "person", "Pope Francis", None),
        ("Vladimir Putin", "person", "Putin", None)]
ROLES = role_rules.RoleIndex(ROWS)


def roles(text):
    return ROLES.roles(text)


def test_subject_is_the_doer_and_the_object_the_target():
    assert roles("the Taliban killed Iranian diplomats") == role_rules.Roles(("Taliban",), ("Iran",), ())
    assert roles("Iran paid the Taliban") == role_rules.Roles(("Iran",), ("Taliban",), ())


def test_passive_voice_and_by():
    assert roles("Iranian diplomats were killed by the Taliban") == role_rules.Roles(("Taliban",), ("Iran",), ())
    # without an agent the passive subject is still acted upon
    assert roles("Obama was born in Kenya") == role_rules.Roles((), ("Barack Obama",), ("Kenya",))


def test_prepositions_give_place_and_target():
    r = roles("Iran paid Taliban fighters to kill American troops in Afghanistan")
    assert r.doers == ("Iran",) and "United States" in r.targets and r.places == ("Afghanistan",)
    assert roles("the Kremlin put a bounty on US troops") == role_rules.Roles(("Russia",), ("United States",), ())


def test_reporting_frames_are_cut_off():
    r = roles("Bountygate 2.0: US Intelligence Claims Iran Paid Taliban to Kill American Troops in Afghanistan")
    assert r.doers == ("Iran",)
    assert roles("NYT says the Kremlin put a bounty on US troops").doers == ("Russia",)
    assert roles("Trump said Biden endorsed the plan").doers == ("Joe Biden",)


def test_metonyms_and_agencies_count_as_their_state():
    assert roles("Tehran funded the attack").doers == ("Iran",)
    assert roles("Beijing hid the outbreak").doers == ("China",)
    assert roles("Downing Street ordered a review").doers == ("United Kingdom",)
    assert roles("The White House paid the firm").doers == ("United States",)
    assert roles("GRU officers offered bounties").doers == ("Russia",)
    assert roles("Quds Force commanders paid militants").doers == ("Iran",)  # Quds Force -> IRGC -> Iran
    assert roles("The CIA created the Taliban").doers == ("United States",)
    assert roles("Pentagon admits it funded labs") == role_rules.Roles(("United States",), (), ())


def test_plural_demonyms_and_possessives():
    assert roles("Iranians killed Americans") == role_rules.Roles(("Iran",), ("United States",), ())
    assert roles("Russia's GRU paid bounties").doers == ("Russia",)
    assert roles("mbs paid trumps").doers == ()  # no plural for names, and no alias there


def test_conflict_on_doers_of_one_kind_or_swapped_roles():
    iran, russia = roles("Iran paid the Taliban to kill US troops"), roles("Russia paid the Taliban to kill US troops")
    assert role_rules.conflict(roles("the Kremlin put a bounty on US troops"), iran, ROLES)
    assert not role_rules.conflict(roles("the Kremlin put a bounty on US troops"), russia, ROLES)
    assert role_rules.conflict(roles("the Taliban killed Iranian diplomats"), iran, ROLES)  # swapped roles
    assert not role_rules.conflict(roles("Putin ordered bounties on US troops"), russia, ROLES)  # a person is no state
    assert not role_rules.conflict(role_rules.Roles(), iran, ROLES)  # a message naming no doer contradicts nothing


def test_conflict_on_targets_and_passive_subjects():
    pope_trump = roles("Pope Francis endorsed Trump for president")
    assert role_rules.conflict(roles("Pope Francis endorsed Biden"), pope_trump, ROLES)
    assert not role_rules.conflict(roles("the pope endorsed Trump"), pope_trump, ROLES)
    assert role_rules.conflict(roles("Biden was born in Kenya"), roles("Obama was born in Kenya"), ROLES)


def test_roles_from_curated_entities():
    ents = [{"name": "GRU", "role": "actor"}, {"name": "Taliban", "role": "target"}, {"name": "Afghanistan", "role": "place"}]
    assert role_rules.roles_from_entities(ents, ROLES) == role_rules.Roles(("Russia",), ("Taliban",), ("Afghanistan",))
    assert role_rules.Roles.from_dict(role_rules.roles_from_entities(ents, ROLES).to_dict()) == role_rules.roles_from_entities(ents, ROLES)


def test_names_outside_the_gazetteer_take_roles():
    assert roles("Joe Rogan endorsed Joe Biden for president") == role_rules.Roles(("Joe Rogan",), ("Joe Biden",), ())
    assert roles("Denzel Washington endorsed Biden").doers == ("Denzel Washington",)  # not the United States
    assert roles("Michelle Obama was born in Kenya").targets == ("Michelle Obama",)  # not Barack Obama
    assert roles("Obama's father was born in Kenya").targets == ("Barack Obama's father",)
    assert roles("Says Denzel Washington supports Trump").doers == ("Denzel Washington",)  # PolitiFact's "Says"


def test_headlines_tweets_and_afterthoughts():
    assert roles("Russian bounties on American troops: what we know").doers == ("Russia",)  # no verb: the opener
    assert roles("London today!").doers == ()  # a place and no noun after it
    assert roles("Russia paid militants to kill US soldiers, officials say").doers == ("Russia",)
    assert roles("Keanu Reeves endorsed Trump, saying he is the only one").doers == ("Keanu Reeves",)
    assert roles("Iran's president killed in helicopter crash") == role_rules.Roles((), ("Iran",), ())  # a dropped "was"
    tweet = "Obama really did agree with Trump on this. — Some Account (@someone) March 24, 2019"
    assert roles(tweet).doers == ("Barack Obama",)  # the signature is who posted, not who did it


def test_an_owner_in_the_subject_is_no_doer_unless_its_agents_act():
    assert roles("Trump's rally traffic made me miss my train").doers == ()
    assert roles("Tehran's missiles killed 80 Americans").doers == ("Iran",)


def test_unknown_names_compare_person_to_person():
    rogan, pope = roles("Joe Rogan endorsed Joe Biden for president"), roles("Pope Francis endorsed Joe Biden")
    assert role_rules.conflict(pope, rogan, ROLES)
    assert not role_rules.conflict(roles("Rogan endorsed Biden"), rogan, ROLES)  # a surname is the same person
    assert not role_rules.conflict(roles("Breaking News: Republicans vote to ban it"), roles("The Republican majority voted for it"), ROLES)
    assert role_rules.conflict(roles("Obama's father was born in Kenya"), roles("Obama was born in Kenya"), ROLES)
    assert not role_rules.conflict(roles("Zelensky's wife spent millions"), roles("Olena Zelenska spent millions"), ROLES)


def test_metonym_states_name_the_state_of_a_seat_or_agency():
    toks = role_rules.role_tokens("the Kremlin and the CIA met in Russia")
    assert ROLES.metonym_states(toks) == ["Russia", "United States"]  # CIA is named as itself; "Russia" by name is no metonym


def test_actors_the_claim_names_nowhere():
    index = role_rules.RoleIndex([("Russia", "country", "Russia", None), ("Pakistan", "country", "Pakistan", None),
                                  ("ISI", "organisation", "ISI", "Pakistan"), ("United States", "country", "US", None),
                                  ("Vladimir Putin", "person", "Putin", None, "Russia"),
                                  ("Joe Biden", "person", "Biden", None, "United States")])
    pakistan = role_rules.Roles(("Pakistan",), (), ())
    said = role_rules.Roles(("Vladimir Putin",), (), ())
    assert role_rules.unnamed_by_claim(said, pakistan, [], index) == ["Vladimir Putin"]
    assert role_rules.unnamed_by_claim(said, role_rules.Roles(("Russia",), (), ()), [], index) == []  # acts for Russia
    assert role_rules.unnamed_by_claim(role_rules.Roles(("Pakistan",), (), ()), role_rules.Roles(), ["ISI"], index) == []
    biden = role_rules.Roles(("Joe Biden",), (), ())
    assert role_rules.unnamed_by_claim(biden, role_rules.Roles((), ("United States",), ()), [], index) == []
    assert role_rules.unnamed_by_claim(role_rules.Roles((), (), ("Russia",)), role_rules.Roles(), [], index) == ["Russia"]
