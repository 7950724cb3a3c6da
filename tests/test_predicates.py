"""What a claim asserts as against what it is about (bot/engine/predicates.py): pure functions."""

from bot.engine import actor_roles, predicates
from bot.engine.normalize import stem

INDEX = actor_roles.RoleIndex([("Iran", "country", "Iran", None), ("Russia", "country", "Russia", None),
                          ("United States", "country", "US", None), ("Taliban", "organisation", "Taliban", None)])


def states(message: str, claim: str) -> bool:
    return predicates.states([stem(t) for t in message.lower().split()], [predicates.predicate(claim, INDEX)])


def test_the_predicate_is_the_verb_phrase_not_the_subject():
    assert states("morgan freeman has died", "Morgan Freeman has died")
    assert not states("morgan freeman doing the voiceover is so soothing", "Morgan Freeman has died")
    assert not states("i crack my knuckles when nervous", "Cracking your knuckles causes arthritis")
    assert states("crack your knuckles and you get arthritis", "Cracking your knuckles causes arthritis")


def test_close_paraphrases_of_the_verb_count():
    claim = "Iran paid the Taliban bounties to kill US troops"
    assert states("iran offered rewards for dead american soldiers", claim)  # offered/rewards ~ paid/bounties
    assert states("the pope backs trump", "Pope Francis endorsed Donald Trump")
    assert not states("the pope visited portugal", "Pope Francis endorsed Donald Trump")


def test_pictures_and_existential_claims_ask_for_no_predicate():
    assert predicates.predicate("Photo shows a shark swimming on a flooded highway") == set()
    assert predicates.predicate("A large-scale killing of farmers is taking place in South Africa") == set()


def test_the_story_that_x_is_a_hoax_asserts_the_hoax():
    claim = "The story that Russia offered bounties on US troops is a hoax made up by the media"
    assert not states("nyt says the kremlin put a bounty on us troops", claim)
    assert states("the russian bounty story was a media hoax", claim)


def test_a_near_copy_that_swaps_one_thing_states_another_claim():
    assert predicates.substitution("Ivermectin cures cancer", "Ivermectin cures COVID-19") == "cancer instead of covid"
    assert predicates.substitution("The flu vaccine causes autism", "The MMR vaccine causes autism") == "flu instead of mmr"
    assert predicates.substitution("Ivermectin cures covid", "Ivermectin cures COVID-19") == ""
    assert predicates.substitution("I only use 10 percent of my phone storage lol", "Humans only use 10 percent of their brains")
    # words changed here and there are a paraphrase, not a swap
    assert predicates.substitution("Humans use just a tenth of their brain capacity", "Humans only use 10 percent of their brains") == ""


def test_paraphrases_that_reword_are_not_swaps():
    assert predicates.substitution("honey never expires", "Honey never goes off") == ""  # the verb changed
    assert predicates.substitution("The covid jab makes women infertile", "COVID-19 vaccines cause infertility in women") == ""
    assert predicates.substitution("DST was invented for farmers", "Daylight saving time was invented for farmers") == ""
    assert predicates.substitution("5G towers are killing birds", "5G masts are killing birds") == ""  # a synonym group
    long = "Hurricane Dorian washed up bricks of cocaine on the coast of Florida near Miami this week"
    assert predicates.substitution(long, "Bricks of cocaine washed ashore in Florida after Hurricane Dorian") == ""


def test_restates_needs_subject_verb_and_object():
    claim = "Humans only use 10 percent of their brains"
    assert predicates.restates("we only use 10 percent of our brains", claim)
    assert not predicates.restates("I only use 10 percent of my phone storage", claim)
    assert not predicates.restates("humans have big brains", claim)


def test_verbs_of_a_claim():
    assert {"fire", "hit"} <= predicates.verbs("Ukraine fired the missile that hit Kramatorsk railway station")
    assert "vote" not in predicates.verbs("Machines deleted millions of votes")  # a noun after "of"


def test_a_clause_of_time_is_no_part_of_the_predicate():
    claim = "Nikki Haley is ineligible to be president because her parents were not citizens when she was born"
    assert not states("nikki haley was born in india", claim)
    assert states("haley is not eligible to run, her parents were not citizens", claim)


def test_a_description_claim_must_have_the_message_s_predicate_verb():
    texts = ["E-mail details actor Denzel Washington's TV appearance with Katie Couric."]
    assert predicates.predicate(texts[0], INDEX) == set()  # nothing asserted: the verb check applies instead
    assert not predicates.verb_said_by("denzel washington endorsed hillary clinton", texts, INDEX)
    assert predicates.verb_said_by("that denzel washington email about his couric appearance", texts, INDEX)
    assert predicates.verb_said_by("Denzel Washington appeared with Katie Couric, e-mail details", texts, INDEX)


def test_a_plain_x_is_y_about_the_topic_says_something_else():
    claim = [predicates.predicate("The White House has decreed that its Christmas trees will be called Holiday trees", INDEX)]
    assert predicates.says_otherwise("the White House Christmas tree lighting is on tonight", claim, INDEX)
    assert predicates.says_otherwise("microwave popcorn is my weakness",
                                     [predicates.predicate("You can microwave an ear of corn to make popcorn", INDEX)], INDEX)
    # not: the claim's own words, a verdict on it, a passive, a verb before the copula
    assert not predicates.says_otherwise("the White House Christmas trees are now Holiday trees", claim, INDEX)
    assert not predicates.says_otherwise("the Christmas tree story is fake", claim, INDEX)
    bounty = [predicates.predicate("Iran paid the Taliban bounties to kill US troops", INDEX)]
    assert not predicates.says_otherwise("US troops were killed for Iranian bounties", bounty, INDEX)
    assert not predicates.says_otherwise("Iran paid the Taliban and it was for US troops", bounty, INDEX)
