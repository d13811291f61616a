"""The vocabulary that generalisation and distillation read: object classes, verbs, phrasings.

    Lexicon            a frozen bundle of word lists; pass your own to cover another domain
    HOUSEHOLD          the default: ALFWorld-style household tasks (objects, receptacles,
                       appliances, the six task families and their everyday synonyms)

The lists are data, not logic: the generaliser only asks "is this word an object
class?", "which canonical verb does this word stand for?" and so on, so extending
the domain means passing a bigger ``Lexicon``, not editing code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["HOUSEHOLD", "Lexicon", "singular"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Receptacles: places things are found in or put on (ALFWorld's receptacle classes).
_RECEPTACLES = _words(
    """armchair bathtubbasin bed cabinet cart coffeemachine coffeetable countertop desk
    diningtable drawer dresser fridge garbagecan handtowelholder laundryhamper microwave ottoman
    safe shelf sidetable sinkbasin sofa stoveburner toaster toilet toiletpaperhanger towelholder
    tvstand"""
)

# Portable objects (ALFWorld's pickupable classes plus the lamps, which are used, not moved).
_OBJECTS = _words(
    """alarmclock apple baseballbat basketball book bowl box bread butterknife candle cd cellphone
    cloth creditcard cup desklamp dishsponge egg floorlamp fork glassbottle handtowel houseplant
    kettle keychain knife ladle laptop lettuce mug newspaper pan papertowel papertowelroll pen
    pencil peppershaker pillow plate plunger pot potato remotecontrol saltshaker scrubbrush
    soapbar soapbottle spatula spoon spraybottle statue teddybear television tennisracket
    tissuebox toiletpaper toiletpaperroll tomato towel vase watch wateringcan winebottle"""
)

# Everyday spellings folded onto the class names the environment uses.
_ALIASES: dict[str, str] = {
    "alarm clock": "alarmclock",
    "arm chair": "armchair",
    "baseball bat": "baseballbat",
    "bathtub basin": "bathtubbasin",
    "bathtub": "bathtubbasin",
    "bath tub": "bathtubbasin",
    "butter knife": "butterknife",
    "cell phone": "cellphone",
    "phone": "cellphone",
    "coffee machine": "coffeemachine",
    "coffee maker": "coffeemachine",
    "coffee table": "coffeetable",
    "counter top": "countertop",
    "counter": "countertop",
    "credit card": "creditcard",
    "desk lamp": "desklamp",
    "lamp": "desklamp",
    "dining table": "diningtable",
    "table": "diningtable",
    "dish sponge": "dishsponge",
    "sponge": "dishsponge",
    "floor lamp": "floorlamp",
    "refrigerator": "fridge",
    "garbage can": "garbagecan",
    "trash can": "garbagecan",
    "bin": "garbagecan",
    "glass bottle": "glassbottle",
    "hand towel": "handtowel",
    "house plant": "houseplant",
    "key chain": "keychain",
    "keys": "keychain",
    "laundry hamper": "laundryhamper",
    "microwave oven": "microwave",
    "paper towel roll": "papertowelroll",
    "paper towel": "papertowel",
    "pepper shaker": "peppershaker",
    "remote control": "remotecontrol",
    "remote": "remotecontrol",
    "salt shaker": "saltshaker",
    "scrub brush": "scrubbrush",
    "side table": "sidetable",
    "nightstand": "sidetable",
    "sink basin": "sinkbasin",
    "sink": "sinkbasin",
    "soap bar": "soapbar",
    "bar of soap": "soapbar",
    "soap bottle": "soapbottle",
    "spray bottle": "spraybottle",
    "stove burner": "stoveburner",
    "stove": "stoveburner",
    "burner": "stoveburner",
    "teddy bear": "teddybear",
    "tennis racket": "tennisracket",
    "tissue box": "tissuebox",
    "toilet paper hanger": "toiletpaperhanger",
    "toilet paper roll": "toiletpaperroll",
    "toilet paper": "toiletpaper",
    "towel holder": "towelholder",
    "tv stand": "tvstand",
    "tv": "television",
    "watering can": "wateringcan",
    "wine bottle": "winebottle",
}

# Task families: every word that signals one, mapped to its canonical verb.
_STATE_VERBS: dict[str, str] = {
    # "microwave" alone is left out: "put a mug in the microwave" is a put task.
    **dict.fromkeys("heat heats heated heating hot warm warms warmed warming".split(), "heat"),
    **dict.fromkeys("microwaved cook cooked toast toasted".split(), "heat"),
    **dict.fromkeys(
        "cool cools cooled cooling cold chill chills chilled refrigerate".split(), "cool"
    ),
    **dict.fromkeys("refrigerated freeze frozen".split(), "cool"),
    **dict.fromkeys(
        "clean cleans cleaned cleaning wash washes washed rinse rinsed".split(), "clean"
    ),
    **dict.fromkeys("scrub scrubbed".split(), "clean"),
}
# Appliance names that act as verbs when they open a sentence ("microwave an apple ...").
_IMPERATIVE_TOOLS: dict[str, str] = {"microwave": "heat"}
_EXAMINE_WORDS = _words("examine examines inspect inspects look looks study view observe read")
_LAMPS = _words("desklamp floorlamp")
_PAIR_WORDS = _words("two 2 both pair couple")
_PLACE_VERBS = _words(
    """put puts place places move moves bring brings set sets drop leave store stow keep carry
    deliver find get fetch take grab pick return"""
)
# Prepositions that introduce where the object should end up, or the tool to use.
_DESTINATION_PREPS = _words("in on into onto inside to at")
_TOOL_PREPS = _words("under with using by beneath below")
# Words that never name the object or the receptacle.
_FILLERS = _words(
    """a an the some any one another other of it them and then up down out over your my its
    first second next also please now go there here is are that which this these those"""
)
# Appliances each state change needs in the household domain.
_TOOLS: dict[str, str] = {"heat": "microwave", "cool": "fridge", "clean": "sinkbasin"}
# Observations meaning "that action did nothing".
_FAILURE_OBSERVATIONS = (
    "nothing happens",
    "i don't understand",
    "invalid action",
    "you can't",
    "you cannot",
    "not possible",
)
_IRREGULAR_PLURALS: dict[str, str] = {
    "knives": "knife",
    "shelves": "shelf",
    "potatoes": "potato",
    "tomatoes": "tomato",
    "boxes": "box",
    "watches": "watch",
    "dishes": "dish",
    "brushes": "brush",
    "glasses": "glass",
}


@dataclass(frozen=True, repr=False)
class Lexicon:
    """Word lists for one domain; immutable so a default instance can be shared safely.

    Attributes:
        receptacles: Classes of places things are found in or put on.
        objects: Classes of portable things (and used-in-place tools such as lamps).
        aliases: Multi-word or everyday spellings mapped to class names.
        state_verbs: Words signalling a state change, mapped to the canonical verb.
        imperative_tools: Appliance words that mean a state verb at a sentence start.
        examine_words: Words signalling "look at something".
        lamps: Classes that light an object for examination.
        pair_words: Words meaning "two of them".
        place_verbs: Words meaning "bring/put something somewhere".
        destination_preps: Prepositions before the destination.
        tool_preps: Prepositions before a tool (lamp, appliance).
        fillers: Words that never name a slot.
        tools: The appliance each state verb needs.
        failure_observations: Lowercase fragments of "the action did nothing" replies.
    """

    receptacles: frozenset[str] = _RECEPTACLES
    objects: frozenset[str] = _OBJECTS
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(_ALIASES)))
    state_verbs: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(_STATE_VERBS))
    )
    imperative_tools: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(_IMPERATIVE_TOOLS))
    )
    examine_words: frozenset[str] = _EXAMINE_WORDS
    lamps: frozenset[str] = _LAMPS
    pair_words: frozenset[str] = _PAIR_WORDS
    place_verbs: frozenset[str] = _PLACE_VERBS
    destination_preps: frozenset[str] = _DESTINATION_PREPS
    tool_preps: frozenset[str] = _TOOL_PREPS
    fillers: frozenset[str] = _FILLERS
    tools: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(_TOOLS)))
    failure_observations: tuple[str, ...] = _FAILURE_OBSERVATIONS

    def __repr__(self) -> str:
        # The word lists would flood help() and every signature that defaults to HOUSEHOLD.
        return f"Lexicon({len(self.objects)} objects, {len(self.receptacles)} receptacles)"

    @property
    def classes(self) -> frozenset[str]:
        """Every known class name (objects and receptacles)."""
        return self.objects | self.receptacles

    def is_failure(self, observation: str) -> bool:
        """Whether an observation says the action had no effect."""
        text = observation.strip().lower()
        return any(fragment in text for fragment in self.failure_observations)


def singular(word: str, known: frozenset[str]) -> str:
    """The singular of ``word`` when that singular is a known class, else ``word`` unchanged.

    Only known classes are singularised so that words such as "glass" or "bus"
    are never mangled into "glas" or "bu".
    """
    if word in known:
        return word
    irregular = _IRREGULAR_PLURALS.get(word)
    if irregular and irregular in known:
        return irregular
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in known:
            return word[: -len(suffix)]
    return word


HOUSEHOLD = Lexicon()
