#!/usr/bin/env python3
"""Deterministic generator of mgviz's sample data sets.

``python sample_data/generate.py`` rewrites, byte for byte, the committed files

* ``sample_data/{interactions,items,users,ground_truth}.csv`` – an English online
  store for books, films, music and hobby goods (1,500 users, 800 items, 60,000
  interactions in 2025, 6 planted user segments);
* ``sample_data/zh/*.csv`` – a small Simplified-Chinese video site (200 users,
  120 items, 6,000 interactions, 4 planted segments) with the same columns.

The data are synthetic but built so that the model's levels have something true
to find: every user belongs to exactly one segment, each segment prefers two item
categories, and a fixed share of every user's interactions falls on items whose
*primary* category is one of the user's preferred categories. ``ground_truth.csv``
records the plant; ``sample_data/README.md`` describes the columns.

Only numpy, pandas and the standard library are used. Determinism: one fixed seed
per locale, split with :class:`numpy.random.SeedSequence` into independent streams
per stage (so editing, say, the review phrases does not reshuffle the interactions);
only ``Generator.random``/``integers``/``uniform``/``normal``/``permutation`` are
called (streams numpy keeps stable); no wall clock, no set/dict-order dependence; rows are
sorted and no float is ever written.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
YEAR_START = np.datetime64("2025-01-01T00:00:00", "s")
N_DAYS = 365
FIRST_WEEKDAY = 2  # 2025-01-01 is a Wednesday (Monday = 0)
DRIFT_DAY = 181  # 2025-07-01: drifting users switch to another segment's categories from this day on
MIN_EACH_SIDE = 12  # a drifting user has at least this many interactions before and after DRIFT_DAY
GENDERS = ("F", "M", "other")
FILES = ("interactions.csv", "items.csv", "users.csv", "ground_truth.csv")

# Share of the day's activity per hour: a small morning bump, lunch, and the evening peak of a shop.
HOUR_WEIGHTS = np.array(
    [float(w) for w in "1 .6 .4 .3 .3 .4 .8 1.5 2 2 2.2 2.5 3 2.8 2.5 2.5 2.8 3.5 4.5 5 5 4.5 3.5 2".split()]
)


# ----------------------------------------------------------------------------------------------- specification
_END = ".!?。！？"
_SENTENCE_FIELDS = ("main", "extra", "pos", "neg", "interest")


def _split(text: str, sentences: bool = False) -> tuple[str, ...]:
    """``"a; b ;c"`` -> ``("a", "b", "c")`` (``;`` because phrases contain commas).

    With ``sentences=True`` only a ``;`` right after a sentence end splits, so that a sentence may
    itself contain a semicolon ("Clear explanations; it finally made sense."), and every part must
    end like a sentence – a guard against a forgotten full stop gluing two templates together.
    """
    pattern = r"(?<=[.!?。！？])\s*;\s*" if sentences else r"\s*;\s*"
    parts = tuple(part.strip() for part in re.split(pattern, text.strip()) if part.strip())
    if sentences:
        bad = [part for part in parts if part[-1] not in _END]
        if bad:
            raise ValueError(f"not whole sentences: {bad}")
    return parts


@dataclass(frozen=True)
class Category:
    """One item category and the vocabulary its texts are composed from.

    Templates use ``str.format`` slots: ``{noun}``, ``{adj}``, ``{tone}``, ``{person}``, ``{place}``,
    ``{fmt}`` (the item's format, e.g. "novel") and ``{title}``.

    Attributes
    ----------
    name : str
        Category label as written in ``items.categories`` and ``ground_truth``.
    genre : str
        How a user names the category in a bio ("science fiction", "科幻片").
    related : tuple of str
        Categories an item of this category is likely to carry as secondary ones.
    formats, tone, nouns, adjs, people, places : tuple of str
        Slot vocabularies. ``tone`` describes the work ("gripping"), ``adjs`` its world or title ("derelict");
        every noun must fit every template that uses ``{noun}`` – they are the category-specific words a
        keyword extractor should surface.
    titles, main, extra : tuple of str
        Title templates; first description sentence; further description sentences.
    pos, neg : tuple of str
        Review sentences for liked (rating >= 4) and disliked (rating <= 2) items.
    ident, interest, tags : tuple of str
        Bio parts: who the user is ("weekend baker"), a sentence about the interest, hashtags.
    """

    name: str
    genre: str
    related: tuple[str, ...]
    formats: tuple[str, ...]
    tone: tuple[str, ...]
    nouns: tuple[str, ...]
    adjs: tuple[str, ...]
    people: tuple[str, ...]
    places: tuple[str, ...]
    titles: tuple[str, ...]
    main: tuple[str, ...]
    extra: tuple[str, ...]
    pos: tuple[str, ...]
    neg: tuple[str, ...]
    ident: tuple[str, ...]
    interest: tuple[str, ...]
    tags: tuple[str, ...]


def _cat(name: str, *, genre: str, **fields: str) -> Category:
    return Category(
        name=name, genre=genre, **{key: _split(value, key in _SENTENCE_FIELDS) for key, value in fields.items()}
    )


@dataclass(frozen=True)
class Segment:
    """A planted user segment: its two preferred categories and its demographic leanings.

    ``occupations`` and ``cities`` are favoured (weight ``boost``), not exclusive, so that
    demographics correlate with the segment without determining it.
    """

    name: str
    categories: tuple[str, str]
    share: float
    age_mean: float
    age_sd: float
    gender_p: tuple[float, float, float]
    occupations: tuple[str, ...]
    cities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Locale:
    """Everything that differs between the English and the Chinese sample."""

    key: str
    seed: int
    n_users: int
    n_items: int
    n_interactions: int
    min_per_user: int
    max_per_user: int
    activity_sigma: float  # spread of the log-normal number of interactions per user
    categories: tuple[Category, ...]
    segments: tuple[Segment, ...]
    occupations: tuple[str, ...]
    cities: tuple[str, ...]
    generic_pos: tuple[str, ...]
    generic_neg: tuple[str, ...]
    generic_mixed: tuple[str, ...]
    bio_templates: tuple[str, ...]
    bio_no_job: tuple[str, ...]  # occupations that do not fit "{occupation} by day" style templates
    sentence_sep: str  # " " between English sentences, "" between Chinese ones
    english: bool
    extra_rate: float = 0.3  # users with a personal third preferred category
    noise_range: tuple[float, float] = (0.12, 0.26)  # share of a user's interactions drawn outside the plant
    reconsume_rate: float = 0.015
    review_rate: float = 0.2
    bio_rate: float = 0.6
    tag_rate: float = 0.4
    zipf_exponent: float = 1.0
    boost: float = 4.0
    drift_users: int = 0  # users whose preferred categories change on DRIFT_DAY (another segment's pair)
    friends: tuple[int, int] | None = None  # friends each user names (low, high inclusive); None: no friends file
    homophily: float = 0.85  # share of the friends a user names inside their own planted segment


# ----------------------------------------------------------------------------------------------- English vocabulary
EN_CATEGORIES = (
    _cat(
        "sci-fi",
        genre="science fiction",
        related="fantasy; fantasy; science; science; technology",
        formats="novel; film; box set; audiobook; graphic novel",
        tone="gripping; thought-provoking; mind-bending; sweeping; visionary; fast-paced",
        nouns="starship; space station; colony ship; moon base; android; cyborg; wormhole; asteroid; spaceport; "
        "artifact; time machine; robot; research vessel; nebula",
        adjs="interstellar; derelict; cybernetic; orbital; quantum; abandoned; alien; silent",
        people="starship captain; android; young pilot; rogue engineer; navigator; xenobiologist; ship's AI",
        places="Mars; Europa; Titan; the Outer Rim; Andromeda; Proxima; the Kuiper Belt; Alpha Centauri",
        titles="The {adj} {noun}; Beyond {place}; The Last {noun}; Signals from {place}; The {adj} Horizon; "
        "Children of the {noun}; Dust of {place}; Return to {place}",
        main="A {tone} {fmt} about a {person} who discovers a {noun} near {place}.; "
        "When a distress call reaches {place}, a {person} must decide what humanity is worth.; "
        "This {tone} {fmt} follows a {person} on a one-way voyage to {place}.; "
        "Set on a lonely outpost near {place}, this {tone} {fmt} imagines first contact with an alien civilization.",
        extra="Expect hard science, strange technology and a {noun} you will not forget.; "
        "A thoughtful story about artificial intelligence, exploration and survival.; "
        "Fans of space opera will love the starship battles.; "
        "The worldbuilding stretches from {place} to the edge of the galaxy.",
        pos="Loved the {noun} scenes, genuinely {tone} stuff.; "
        "The {person} was the best character, and the ending on {place} gave me chills.; "
        "Smart science fiction with big ideas and a fast plot.; Could not put it down once the {noun} appeared.",
        neg="Too much technobabble about the {noun} and not enough story.; "
        "The {person} felt flat and the alien plot went nowhere.; "
        "Expected more from the {noun} storyline; the pacing dragged.",
        ident="sci-fi nerd; amateur astronomer; space opera fan; lifelong Trekkie; robotics hobbyist",
        interest="Always looking for my next starship saga.; Can't resist a good story about aliens and robots.; "
        "Still dreaming about a colony on Mars.",
        tags="#scifi; #space; #robots",
    ),
    _cat(
        "fantasy",
        genre="fantasy",
        related="sci-fi; sci-fi; kids; history; art",
        formats="novel; saga; audiobook; board game; graphic novel",
        tone="epic; sweeping; enchanting; spellbinding; dark; whimsical",
        nouns="sword; amulet; spellbook; crown; dragon egg; throne; chalice; staff; ring; map; key; dagger",
        adjs="enchanted; ancient; cursed; legendary; forgotten; shadowed; elven; stolen; broken",
        people="young wizard; exiled princess; dragon rider; sorceress; wandering knight; thief; elf queen; "
        "blacksmith's daughter",
        places="Eldoria; the Northern Wastes; the Silver Isles; Ravenhold; the Misty Vale; Kharador; "
        "the Sunken Citadel",
        titles="The {adj} {noun}; The {noun} of {place}; The {noun} Chronicles; Heir to the {noun}; "
        "The Song of {place}; Crown of {place}; Dragons of {place}",
        main="A {tone} {fmt} in which a {person} sets out on a quest to recover the {adj} {noun}.; "
        "In the kingdom of {place}, a {person} must find the lost {noun} before the prophecy comes true.; "
        "This {tone} {fmt} follows a {person} and a reluctant dragon across {place}.; "
        "Magic is dying in {place}, and only a {person} with a forbidden spellbook can save it.",
        extra="Full of dragons, swords and sorcery.; A sweeping tale of magic, loyalty and betrayal.; "
        "Perfect for readers who love dark magic and epic battles.; "
        "Includes a map of {place} and a glossary of spells.",
        pos="The hunt for the {noun} was magical; loved every chapter.; "
        "Epic fantasy at its best; the {person} won my heart.; The world of {place} felt so vivid and alive.; "
        "Dragons, wizards and a great quest, what more could I want.",
        neg="Yet another chosen one hunting for a magic {noun}; it felt derivative.; "
        "The magic system made no sense and the quest dragged.; "
        "Too many kingdoms and names; I got lost in {place}.",
        ident="dungeon master; fantasy bookworm; dragon lover; tabletop gamer; Tolkien devotee",
        interest="Happiest with a thick fantasy saga and a cup of tea.; Always hunting for the next epic quest.; "
        "Will read anything with dragons in it.",
        tags="#fantasy; #dragons; #dnd",
    ),
    _cat(
        "mystery",
        genre="mysteries",
        related="romance; romance; history; history; travel",
        formats="novel; thriller; audiobook; box set; crime drama",
        tone="chilling; twisty; gripping; suspenseful; atmospheric; clever",
        nouns="alibi; clue; poison bottle; diary; witness; ransom note; stolen necklace; fingerprint; "
        "forged will; murder weapon; anonymous letter; locked door",
        adjs="silent; hidden; deadly; sinister; final; missing; second",
        people="retired detective; police inspector; private investigator; crime reporter; forensic analyst; "
        "amateur sleuth",
        places="Blackwood Manor; Harrow Bay; a snowed-in hotel; the old lighthouse; Ashford Hall; the London docks; "
        "a country vicarage",
        titles="The {adj} {noun}; Murder at {place}; The {noun} Files; Death in {place}; A {noun} for the Inspector; "
        "The {adj} Witness; Shadows over {place}",
        main="A {tone} {fmt} in which a {person} investigates a murder at {place}.; "
        "When a body is found at {place}, a {person} must weigh every clue and alibi.; "
        "This {tone} whodunit follows a {person} as one suspect after another lies.; "
        "A cold case reopens when a {person} uncovers a {noun} at {place}.",
        extra="Every clue matters, and the final twist is worth the wait.; "
        "A classic locked room puzzle with a modern edge.; "
        "Suspense builds chapter by chapter until the last page.; "
        "Fans of crime fiction and police procedurals will be hooked.",
        pos="Loved the twist with the {noun} at the end.; A {tone} mystery; I never guessed the killer.; "
        "Every hint was fair, and the {noun} reveal was brilliant.; Kept me guessing until the last chapter.",
        neg="Guessed the murderer halfway through; the {noun} gave it away.; "
        "Too many suspects and not enough suspense.; The detective was dull and the solution felt cheap.",
        ident="true crime podcast addict; armchair detective; crime fiction reader; puzzle solver",
        interest="Can't resist a good whodunit.; Always trying to guess the killer before the detective does.; "
        "Never without a crime novel on the commute.",
        tags="#mystery; #truecrime; #whodunit",
    ),
    _cat(
        "romance",
        genre="romance novels",
        related="mystery; mystery; travel; history",
        formats="novel; film; audiobook; novella",
        tone="tender; heartwarming; passionate; swoon-worthy; bittersweet; charming; feel-good",
        nouns="love letter; wedding; first kiss; engagement ring; proposal; blind date; honeymoon; "
        "first dance; reunion",
        adjs="secret; perfect; unexpected; last; accidental; summer",
        people="florist; small-town baker; wedding planner; duke; single mother; country vet; lonely widower",
        places="Paris; a seaside village; Tuscany; Lake Como; Willow Creek; a vineyard; the Scottish Highlands; "
        "Santorini",
        titles="The {adj} {noun}; Love in {place}; Summer in {place}; Kiss Me in {place}; Forever in {place}; "
        "Letters from {place}; A Wedding in {place}",
        main="A {tone} {fmt} about a {person} who falls in love during a summer in {place}.; "
        "When a {person} returns to {place}, an old flame offers a second chance at love.; "
        "This {tone} love story pairs a {person} with the one rival they swore never to date.; "
        "Sparks fly in {place} when a {person} and a stranger share a table.",
        extra="A feel-good romance with a happily ever after.; Full of chemistry, banter and heartfelt moments.; "
        "Perfect for fans of slow burn love stories.; Bring tissues for the wedding scene.",
        pos="Such a {tone} love story; I cried at the {noun} scene.; "
        "The chemistry between the {person} and the lead was perfect.; "
        "Swoon! The {noun} in {place} was so romantic.; A cozy, heartwarming romance.",
        neg="The romance felt forced and the {noun} was predictable.; "
        "Too much miscommunication and not enough chemistry.; "
        "Cheesy dialogue; I never believed they were in love.",
        ident="hopeless romantic; rom-com devotee; happy-ever-after reader",
        interest="Give me a love story and a rainy Sunday.; Collecting favorite romance novels since high school.; "
        "Soft spot for second chance love stories.",
        tags="#romance; #booklover; #romcom",
    ),
    _cat(
        "history",
        genre="history books",
        related="travel; travel; mystery; art",
        formats="book; documentary; biography; illustrated history",
        tone="illuminating; vivid; authoritative; gripping; sweeping; meticulous",
        nouns="empire; dynasty; monarchy; republic; kingdom; city-state; merchant guilds",
        adjs="ancient; medieval; imperial; forgotten; lost; last; Byzantine",
        people="historian; emperor; general; queen; archaeologist; foot soldier; diplomat",
        places="Rome; Constantinople; Egypt; Byzantium; Versailles; the Silk Road; Normandy; Carthage",
        titles="The {adj} {noun}; The Fall of {place}; {place}: A History; The Road to {place}; "
        "Kings and Queens of {place}; The Last Days of {place}; Empire of {place}",
        main="A {tone} {fmt} tracing the rise and fall of the {noun} of {place}.; "
        "Drawing on letters and archives, a {person} retells the battle that shaped {place}.; "
        "This {tone} {fmt} brings the world of {place} to life, from emperors to ordinary soldiers.; "
        "A {tone} account of revolution, war and empire in {place}.",
        extra="Richly illustrated with maps and primary sources.; "
        "A must for anyone curious about the ancient and medieval world.; "
        "Meticulously researched and surprisingly readable.; "
        "Covers centuries of dynasties, treaties and revolutions.",
        pos="Fascinating history; the chapter on the {noun} was superb.; "
        "Brings {place} to life, and the maps were a great touch.; Well researched and never dry.; "
        "Learned so much about the {noun} of {place}.",
        neg="Dry and full of dates; the chapters on the {noun} dragged.; "
        "Too many footnotes and not enough narrative.; Felt like a textbook about {place}.",
        ident="history buff; museum regular; amateur genealogist; war documentary fan",
        interest="Happy in any castle or on any old battlefield.; Reading my way through the Roman empire.; "
        "Always planning trips around ancient ruins.",
        tags="#history; #ancientrome; #medieval",
    ),
    _cat(
        "cooking",
        genre="cookbooks",
        related="gardening; gardening; health; travel",
        formats="cookbook; baking book; video course; recipe collection",
        tone="easy; inspiring; practical; mouth-watering; no-nonsense; beautifully photographed",
        nouns="sourdough; pasta; curry; dumplings; casserole; ramen; tacos; risotto; soup; flatbread; stew; "
        "noodles; pastry; tagine",
        adjs="vegetarian; rustic; seasonal; homemade; one-pot; family; Sunday",
        people="home cook; pastry chef; grandmother; busy parent; street food vendor; baker",
        places="Italy; Mexico; Japan; Provence; Sichuan; the Mediterranean; Korea; a farmhouse kitchen",
        titles="The {adj} Kitchen; {adj} {noun}; Flavors of {place}; The {noun} Book; Weeknight {noun}; "
        "Simply {noun}; A Taste of {place}",
        main="A {tone} {fmt} with more than 100 recipes from {place}.; "
        "Learn to make {noun}, sauces and desserts with step-by-step photos.; "
        "This {tone} {fmt} shows every {person} how to cook {adj} dinners in under thirty minutes.; "
        "From {noun} to dessert, every recipe uses seasonal ingredients.",
        extra="Includes tips on knife skills, spices and kitchen basics.; Every dish is tested in a home kitchen.; "
        "Great for meal prep and family dinners.; Features vegetarian options and a chapter on baking.",
        pos="The {noun} recipe is now a family favorite.; "
        "Clear instructions and tasty results; my sourdough finally rose!; "
        "Every recipe I tried was delicious.; Love the dishes from {place}.",
        neg="The recipes call for hard-to-find ingredients.; My {noun} came out bland; the measurements seem off.; "
        "Pretty photos, but the recipes did not work for me.",
        ident="weekend baker; home cook; amateur chef; sourdough obsessive; spice hoarder",
        interest="Always looking for new recipes.; Happiest when the kitchen smells of fresh bread.; "
        "Cooking my way through world cuisines.",
        tags="#baking; #foodie; #homecooking",
    ),
    _cat(
        "travel",
        genre="travel guides",
        related="history; history; cooking; art",
        formats="guidebook; travel memoir; pocket guide; photo book",
        tone="practical; inspiring; witty; essential; budget-friendly; beautifully photographed",
        nouns="road trip; backpacking trip; hiking trip; train journey; cycling tour; island-hopping trip; "
        "camper van trip; food tour",
        adjs="budget; solo; slow; accidental; reluctant; curious",
        people="backpacker; solo traveler; travel writer; photographer; family of four; digital nomad",
        places="Iceland; Patagonia; Vietnam; Morocco; New Zealand; the Alps; Peru; Norway",
        titles="{place} on a Budget; The {adj} Traveler; Lonely Roads of {place}; A {noun} Through {place}; "
        "Wandering {place}; The {place} Handbook; Notes from {place}",
        main="A {tone} {fmt} about {place}, with maps, itineraries and local tips.; "
        "Follow a {person} on a {noun} across {place}.; "
        "This {fmt} covers hidden beaches, hiking trails and hostels in {place}.; "
        "Plan the perfect {noun} through {place} with this {tone} guide.",
        extra="Includes packing lists, budgets and train timetables.; "
        "Stunning photography of landscapes and local markets.; "
        "Written for travelers who prefer trails to tourist traps.; "
        "Tips on visas, passports and travel insurance included.",
        pos="Used this for our trip to {place}; the itinerary was spot on.; "
        "Beautiful photos; made me book a flight to {place}.; Great tips on hostels for a {noun}.; "
        "Perfect companion for a {noun}.",
        neg="Outdated prices, and the maps of {place} were wrong.; Too touristy for a real {noun}.; "
        "Not much here that is not on travel blogs.",
        ident="backpacker; frequent flyer; van life dreamer; solo traveler",
        interest="Planning the next road trip.; Collecting passport stamps and train tickets.; "
        "Always itching for the next flight.",
        tags="#travel; #wanderlust; #backpacking",
    ),
    _cat(
        "technology",
        genre="tech books",
        related="business; business; science; sci-fi",
        formats="guide; handbook; video course; workbook",
        tone="practical; hands-on; clear; modern; approachable; thorough",
        nouns="software design; algorithms; cloud computing; databases; cybersecurity; machine learning; Python; "
        "networking; web development; Linux; data engineering; app development",
        adjs="modern; secure; scalable; hands-on; open-source; effective",
        people="software engineer; developer; data scientist; IT manager; hacker; startup founder",
        places="Silicon Valley; the data center; the home office; the cloud",
        titles="Practical {noun}; Mastering {noun}; {noun} in Action; The {noun} Handbook; Learning {noun}; "
        "{noun} for Everyone; {adj} {noun}",
        main="A {tone} introduction to {noun} for every {person}.; "
        "Learn {noun} step by step, from your first program to production servers.; "
        "This {fmt} explains how modern software, cloud servers and networks fit together.; "
        "A {tone} {fmt} for the {person} who wants to build secure, scalable apps.",
        extra="Includes code examples in Python and JavaScript.; Covers debugging, testing and deployment.; "
        "Written by a {person} with twenty years in the industry.; Explains {noun} without hype or jargon.",
        pos="Clear explanations of {noun}; it finally made sense.; The code examples actually work.; "
        "The best resource on {noun} I have found.; Helped me ship my first app.",
        neg="Already outdated; the {noun} chapter uses old versions.; Too basic for a working developer.; "
        "Buggy code samples and sloppy editing.",
        ident="software engineer; gadget geek; weekend coder; open-source contributor",
        interest="Always tinkering with new gadgets.; Learning a new programming language every year.; "
        "Building side projects at night.",
        tags="#coding; #tech; #gadgets",
    ),
    _cat(
        "science",
        genre="popular science",
        related="technology; sci-fi; health; kids",
        formats="book; documentary; lab kit; lecture series",
        tone="fascinating; mind-expanding; accessible; lively; thought-provoking; witty",
        nouns="universe; human brain; climate; black hole; atom; living cell; microbe; fossil record; genome; "
        "immune system; solar system",
        adjs="hidden; secret; curious; invisible; restless; cosmic",
        people="physicist; biologist; astronomer; neuroscientist; chemist; young scientist",
        places="the deep ocean; the Big Bang; the laboratory; Antarctica; the Galapagos; CERN",
        titles="The {adj} {noun}; A Brief History of the {noun}; Inside the {noun}; The {noun} Puzzle; "
        "Secrets of the {noun}; The Story of the {noun}",
        main="A {tone} exploration of the {noun}, written by a {person} for curious readers.; "
        "From the atom to the universe, this {fmt} explains the science of the {noun}.; "
        "A {person} takes us from {place} to the frontier of physics and biology.; "
        "This {tone} {fmt} reveals what scientists are still learning about the {noun}.",
        extra="Packed with experiments you can try at home.; Explains complex research without equations.; "
        "Perfect for anyone who loves popular science.; Covers the latest discoveries about black holes and DNA.",
        pos="Mind-blowing chapter on the {noun}.; Makes physics and biology accessible and fun.; "
        "My kids loved the experiments.; The best popular science I read this year.",
        neg="Oversimplified the science of the {noun}.; Too many equations for a casual reader.; "
        "Repetitive, and the experiment chapters were thin.",
        ident="science geek; stargazer; lab technician; nature documentary fan",
        interest="Curious about everything from atoms to galaxies.; Reading about evolution and the brain.; "
        "Never miss a science podcast.",
        tags="#science; #physics; #astronomy",
    ),
    _cat(
        "music",
        genre="music",
        related="art; art; history; kids",
        formats="album; vinyl record; double album; concert film",
        tone="soulful; lively; gorgeous; moody; joyful; intimate",
        nouns="jazz; blues; soul; folk; bluegrass; funk; swing; gospel; rock and roll; chamber music",
        adjs="acoustic; midnight; electric; Sunday; late-night; golden",
        people="guitarist; pianist; singer-songwriter; jazz trio; conductor; soul singer; string quartet; rock band",
        places="Nashville; New Orleans; Vienna; Memphis; Havana; Abbey Road; Seattle",
        titles="{adj} Sessions; Live in {place}; The {noun} Collection; {place} Nights; Songs of {place}; "
        "The {adj} Years; {noun} at Midnight",
        main="A {tone} {fmt} from a {person} recorded live in {place}.; "
        "Twelve songs of guitar, piano and soulful vocals from a {person}.; "
        "This {fmt} collects the best {noun} recordings of a {person}.; "
        "Remastered on vinyl, the {tone} album that defined the {noun} sound of {place}.",
        extra="Includes liner notes and rare bonus tracks.; Perfect for late night listening.; "
        "Blends jazz, blues and soul with a modern rhythm.; Pressed on heavyweight vinyl.",
        pos="The guitar solo on track three gives me goosebumps.; Gorgeous, {tone} sound; on repeat all week.; "
        "Best {noun} album of the year.; The vinyl pressing sounds warm and clear.",
        neg="Muddy mix; the vocals are buried.; A few good songs but mostly filler.; "
        "The live {noun} recordings are noisy.",
        ident="vinyl collector; amateur guitarist; jazz lover; choir singer",
        interest="Always discovering new albums.; Concerts every weekend if I can.; Life needs a soundtrack.",
        tags="#music; #vinyl; #jazz",
    ),
    _cat(
        "sports",
        genre="sports books",
        related="health; health; history; kids",
        formats="memoir; documentary; biography; training guide",
        tone="inspiring; gripping; candid; moving; no-nonsense; uplifting",
        nouns="marathon running; football; cycling; tennis; basketball; swimming; boxing; rowing; trail running; "
        "triathlon",
        adjs="long; final; winning; perfect; lost; golden",
        people="marathon runner; football coach; cyclist; tennis champion; boxer; Olympic swimmer; team captain",
        places="Boston; Wembley; the Tour de France; Wimbledon; the Olympics; the world championships",
        titles="The {adj} Season; The {noun} Diaries; Born for {noun}; Road to {place}; Beyond the Finish Line; "
        "Chasing Gold at {place}; Inside {noun}",
        main="The {tone} story of a {person} chasing a championship at {place}.; "
        "A complete plan for your first marathon, from the couch to the finish line.; "
        "This {tone} {fmt} goes behind the scenes with a {person} through a long season of {noun}.; "
        "How a {person} turned an underdog team into champions.",
        extra="Includes training plans, drills and race-day advice.; "
        "A must-read for football, cycling and running fans.; "
        "Full of locker room stories and stadium drama.; Packed with workouts to build speed and endurance.",
        pos="Followed the marathon plan and beat my personal best!; An inspiring story about a {person}.; "
        "Great for any {noun} fan.; The best sports book I have read.",
        neg="The training advice is generic.; Too much about the coach's ego.; The {noun} stats get tedious.",
        ident="trail runner; weekend cyclist; football fanatic; marathoner; tennis player",
        interest="Training for my next marathon.; Never miss a match day.; Chasing a new personal best.",
        tags="#running; #football; #cycling",
    ),
    _cat(
        "kids",
        genre="children's books",
        related="fantasy; art; music; science",
        formats="picture book; activity book; animated film; board book",
        tone="playful; colorful; silly; sweet; charming; cheerful",
        nouns="puppy; dinosaur; unicorn; monster; pirate; dragon; robot; kitten; penguin; teddy bear",
        adjs="little; brave; sleepy; hungry; grumpy; giggling",
        people="little bear; young explorer; curious kitten; brave princess; friendly dragon; little girl; little boy",
        places="the treehouse; the farm; Dino Island; the zoo; the toy shop; the playground",
        titles="The {adj} {noun}; The {noun} and Friends; Goodnight, Little {noun}; Where Is the {noun}?; "
        "A Day at {place}; The {noun} Who Could Not Sleep",
        main="A {tone} {fmt} about a {person} who gets lost at {place}.; "
        "A bedtime story for ages 3 to 6, with colorful pictures on every page.; "
        "This {tone} {fmt} teaches counting, colors and the alphabet through play.; "
        "Join a {person} and a {noun} on a silly adventure at {place}.",
        extra="Perfect for reading aloud at bedtime.; Sturdy pages for little hands.; "
        "Includes stickers, puzzles and a coloring page.; Encourages kindness, sharing and curiosity.",
        pos="My daughter asks for this bedtime story every night.; My son loves the {noun}!; "
        "Colorful, silly and sweet; great for toddlers.; The kids read it again and again.",
        neg="Too short for the price; the kids lost interest.; Flimsy pages tore in a week.; "
        "The {noun} is a bit scary for toddlers.",
        ident="parent of two; primary school teacher; bedtime story reader; proud grandparent",
        interest="Always on the lookout for picture books my kids will love.; Reading aloud every night.; "
        "Building a home library for the little ones.",
        tags="#kidsbooks; #parenting; #readaloud",
    ),
    _cat(
        "health",
        genre="health and wellness books",
        related="sports; sports; cooking; science",
        formats="guide; workbook; video course; program",
        tone="practical; gentle; science-based; encouraging; sensible; calming",
        nouns="yoga; meditation; nutrition; sleep; mindfulness; posture; gut health; breathing; healthy eating; "
        "stretching",
        adjs="healthy; balanced; rested; strong; calm",
        people="nutritionist; yoga teacher; doctor; physiotherapist; sleep researcher; health coach",
        places="home; the office; the morning; a busy week",
        titles="The {adj} Body; {noun} Every Day; The {noun} Cure; Thirty Days of {noun}; The {noun} Reset; "
        "The {adj} Mind; {noun} for Beginners",
        main="A {tone} guide to {noun} and everyday wellbeing from a {person}.; "
        "This {tone} {fmt} offers thirty days of small steps toward less stress and more energy.; "
        "A {person} explains the science of {noun}, nutrition and mindfulness.; "
        "Simple yoga and breathing routines to build healthy daily habits.",
        extra="Includes meal plans, stretches and a sleep diary.; Backed by research on nutrition and wellness.; "
        "Gentle exercises suitable for beginners.; Helps reduce stress and improve posture.",
        pos="The {noun} routine really helped me.; Practical advice on nutrition and stress.; "
        "I feel calmer after a month of meditation.; Sensible, {tone} and easy to follow.",
        neg="Another diet fad dressed up as science.; The {noun} plan was too strict for me.; "
        "Vague advice I have heard a hundred times.",
        ident="yoga devotee; wellness enthusiast; meditation newbie; nutrition nerd",
        interest="Trying to sleep more and stress less.; Morning yoga and green smoothies.; "
        "Learning about mindful eating.",
        tags="#yoga; #wellness; #mindfulness",
    ),
    _cat(
        "business",
        genre="business books",
        related="technology; technology; history; health",
        formats="book; audiobook; workbook; online course",
        tone="practical; sharp; insightful; no-nonsense; readable; bold",
        nouns="leadership; strategy; investing; marketing; productivity; negotiation; management; economics; "
        "personal finance; innovation; sales; hiring",
        adjs="lean; smart; effective; patient; agile; human",
        people="CEO; founder; investor; manager; economist; entrepreneur",
        places="Wall Street; Silicon Valley; the boardroom; the corner office",
        titles="{adj} {noun}; {noun} Rules; The {noun} Playbook; The {noun} Mindset; Winning at {noun}; "
        "From Zero to {place}",
        main="A {tone} playbook for leadership, strategy and growth written by a {person}.; "
        "Learn how a {person} built a startup from a garage to {place}.; "
        "This {tone} {fmt} demystifies investing, the stock market and personal finance.; "
        "Practical lessons on {noun} and teamwork for every career stage.",
        extra="Packed with case studies from real companies.; Includes templates for budgets and business plans.; "
        "Essential reading for managers and entrepreneurs.; Explains the economics behind innovation.",
        pos="Changed how I think about {noun}.; Great case studies; I used the negotiation tips at work.; "
        "Concise and practical for any manager.; The best business book on my shelf.",
        neg="Common sense padded out to three hundred pages.; Too many anecdotes about the {person}.; "
        "The {noun} advice is outdated.",
        ident="startup founder; product manager; MBA student; small business owner; angel investor",
        interest="Always reading about leadership and investing.; Building my own company.; "
        "Obsessed with productivity hacks.",
        tags="#business; #startup; #investing",
    ),
    _cat(
        "art",
        genre="art books",
        related="history; music; kids; travel",
        formats="art book; video course; workshop book; illustrated guide",
        tone="inspiring; beautiful; practical; lavish; encouraging; stunning",
        nouns="watercolor; oil painting; sketching; portraiture; sculpture; calligraphy; photography; ceramics; "
        "printmaking; ink drawing",
        adjs="bold; quiet; loose; vibrant; simple; expressive",
        people="painter; illustrator; sculptor; art student; photographer; curator",
        places="Paris; Florence; the Louvre; Montmartre; Kyoto; Amsterdam",
        titles="The Art of {noun}; {adj} Lines; Painting {place}; The {noun} Studio; {adj} {noun}; "
        "Sketching {place}; The {noun} Sketchbook",
        main="A {tone} {fmt} on {noun}, color and composition by a {person}.; "
        "Step-by-step lessons in watercolor, drawing and portrait painting.; "
        "Inspired by the great museums of {place}, with 200 reproductions of paintings.; "
        "Everything a {person} needs to start sketching, from pencils to canvas.",
        extra="Illustrated with masterpieces from the world's galleries.; "
        "Great for beginners and experienced painters alike.; Covers perspective, shading and color theory.; "
        "Each chapter ends with a {noun} exercise.",
        pos="My {noun} has improved so much.; Gorgeous reproductions of the paintings.; "
        "Inspiring for any {person}.; The {tone} illustrations are stunning.",
        neg="Poor print quality on the paintings.; Too advanced for a beginner painter.; The {noun} chapters are thin.",
        ident="Sunday painter; sketchbook doodler; museum lover; pottery class regular",
        interest="Always carry a sketchbook.; Trying watercolor this year.; Galleries are my happy place.",
        tags="#art; #watercolor; #sketching",
    ),
    _cat(
        "gardening",
        genre="gardening guides",
        related="cooking; cooking; health; art",
        formats="guide; handbook; planner; almanac",
        tone="practical; friendly; inspiring; thorough; down-to-earth; beautiful",
        nouns="tomatoes; roses; herbs; houseplants; succulents; fruit trees; vegetables; wildflowers; dahlias; "
        "potatoes",
        adjs="organic; wild; small; kitchen; shady; cottage",
        people="gardener; allotment keeper; beekeeper; landscape designer; balcony grower",
        places="the backyard; the allotment; a small balcony; an English cottage garden; the greenhouse",
        titles="The {adj} Garden; Grow Your Own {noun}; From Seed to {noun}; The {adj} Gardener; A Year of {noun}; "
        "Gardening with {noun}",
        main="A {tone} {fmt} on growing {noun} in {place}.; "
        "Learn composting, pruning and soil care from a {person}.; "
        "This {tone} {fmt} plans a year of sowing seeds and harvesting {noun}.; "
        "Turn {place} into a thriving garden with month-by-month advice.",
        extra="Includes a planting calendar and pest control tips.; "
        "Perfect for houseplants, succulents and small spaces.; Organic methods for healthy soil.; "
        "Comes with heirloom seed packets.",
        pos="My {noun} have never been better.; Great advice on compost and soil.; "
        "The planting calendar is so useful for my {noun}.; Turned my balcony into a jungle.",
        neg="Too basic for an experienced gardener.; The advice does not suit a cold climate.; "
        "My {noun} did not thrive with these methods.",
        ident="allotment gardener; houseplant hoarder; rose grower; beekeeper",
        interest="Happiest with dirt under my nails.; Growing my own vegetables.; Always sowing something new.",
        tags="#gardening; #growyourown; #houseplants",
    ),
)

EN_OCCUPATIONS = (
    "student",
    "software engineer",
    "teacher",
    "nurse",
    "accountant",
    "sales representative",
    "designer",
    "consultant",
    "chef",
    "retired",
    "lawyer",
    "journalist",
    "librarian",
    "personal trainer",
    "physiotherapist",
    "game developer",
    "civil servant",
    "electrician",
    "marketing manager",
    "doctor",
    "farmer",
    "shop owner",
)
EN_CITIES = (
    "London",
    "Manchester",
    "New York",
    "Chicago",
    "Toronto",
    "Sydney",
    "Dublin",
    "Austin",
    "Seattle",
    "Boston",
    "Denver",
    "Melbourne",
    "Vancouver",
    "Edinburgh",
    "San Francisco",
    "Atlanta",
    "Portland",
    "Bristol",
    "Auckland",
    "Leeds",
)
EN_SEGMENTS = (
    Segment(
        "sci-fi & fantasy fans",
        ("sci-fi", "fantasy"),
        0.22,
        28,
        8,
        (0.35, 0.60, 0.05),
        ("student", "software engineer", "game developer", "designer"),
        ("Seattle", "Austin"),
    ),
    Segment(
        "mystery & romance readers",
        ("mystery", "romance"),
        0.20,
        47,
        13,
        (0.72, 0.25, 0.03),
        ("teacher", "nurse", "librarian", "retired"),
        ("Dublin", "Edinburgh", "Leeds"),
    ),
    Segment(
        "home cooks & gardeners",
        ("cooking", "gardening"),
        0.17,
        50,
        12,
        (0.60, 0.37, 0.03),
        ("retired", "chef", "farmer", "shop owner"),
        ("Bristol", "Auckland", "Portland"),
    ),
    Segment(
        "tech & business professionals",
        ("technology", "business"),
        0.14,
        36,
        9,
        (0.33, 0.64, 0.03),
        ("software engineer", "consultant", "accountant", "marketing manager"),
        ("San Francisco", "New York"),
    ),
    Segment(
        "sports & wellness enthusiasts",
        ("sports", "health"),
        0.15,
        32,
        10,
        (0.50, 0.46, 0.04),
        ("personal trainer", "physiotherapist", "nurse", "student"),
        ("Denver", "Melbourne", "Vancouver"),
    ),
    Segment(
        "history & travel buffs",
        ("history", "travel"),
        0.12,
        55,
        13,
        (0.45, 0.52, 0.03),
        ("retired", "teacher", "journalist", "lawyer"),
        ("London", "Boston"),
    ),
)

EN = Locale(
    key="en",
    seed=20250101,
    n_users=1500,
    n_items=800,
    n_interactions=60000,
    min_per_user=8,
    max_per_user=120,
    activity_sigma=0.65,
    drift_users=45,
    friends=(2, 6),
    categories=EN_CATEGORIES,
    segments=EN_SEGMENTS,
    occupations=EN_OCCUPATIONS,
    cities=EN_CITIES,
    generic_pos=_split(
        "Highly recommend.; Worth every penny.; Arrived quickly and in perfect condition.; Five stars from me.; "
        "{title} lived up to the hype.; Already ordered a copy for a friend.",
        sentences=True,
    ),
    generic_neg=_split(
        "Would not buy again.; Disappointed overall.; Sent it back after a week.; Not worth the price.; "
        "{title} did not live up to the reviews.",
        sentences=True,
    ),
    generic_mixed=_split(
        "It was okay, nothing special.; Some good moments with the {noun}, but it dragged in places.; "
        "Decent, though I expected more.; Three stars: fine for a rainy afternoon.; Good idea, uneven execution.",
        sentences=True,
    ),
    bio_templates=_split(
        "{ident1} and {ident2}. {interest1}; {ident1}. {interest1} {interest2}; "
        "{occupation} by day, {ident1} by night. {interest1}; {interest1}; "
        "Big fan of {genre1} and {genre2}. {interest1}"
    ),
    bio_no_job=("student", "retired"),
    sentence_sep=" ",
    english=True,
)


# ----------------------------------------------------------------------------------------------- Chinese vocabulary
ZH_CATEGORIES = (
    _cat(
        "科幻",
        genre="科幻片",
        related="动作; 动作; 纪录片; 动画",
        formats="电影; 电视剧; 系列片",
        tone="震撼; 烧脑; 硬核; 宏大",
        nouns="星舰; 太空站; 机器人; 人工智能; 外星飞船; 火星基地; 时间机器; 克隆人; 仿生人; 星际舰队",
        adjs="遥远的; 寂静的; 冰冷的; 未知的",
        people="宇航员; 舰长; 科学家; 年轻飞行员; 工程师; 天文学家",
        places="火星; 木卫二; 银河边缘; 比邻星; 月球背面; 土星环",
        titles="{noun}纪元; {place}之光; 最后的{noun}; {noun}计划; {place}回声; 星际{noun}; 逃离{place}",
        main="一部关于{person}在{place}发现{noun}的{tone}科幻{fmt}。; "
        "当来自{place}的信号突然中断，{person}必须带领船员踏上未知的旅程。; "
        "影片讲述了人类与{noun}的第一次接触。; 在{adj}{place}，{person}要揭开{noun}背后的秘密。",
        extra="特效震撼，探讨了人工智能与人性的边界。; 宏大的宇宙观和硬核的科学设定让人着迷。; "
        "太空场面壮观，{noun}的设计令人过目难忘。",
        pos="特效太震撼了，{noun}那段看得我热血沸腾！; 硬核科幻，{person}的选择让人深思。; 世界观很宏大，期待续集。; "
        "{place}的画面美得像壁纸，科幻迷必看。",
        neg="剧情太拖沓，{noun}的设定漏洞百出。; 特效不错，但故事太空洞了。; "
        "{person}的人设很单薄，外星人部分莫名其妙。",
        ident="资深科幻迷; 天文爱好者; 太空探索爱好者; 机器人发烧友",
        interest="每部太空电影都不会错过。; 喜欢琢磨宇宙和黑洞的故事。; 最爱看外星人和机器人的电影。",
        tags="#科幻; #太空; #外星人",
    ),
    _cat(
        "动作",
        genre="动作片",
        related="科幻; 科幻; 悬疑; 历史",
        formats="电影; 电视剧; 系列片",
        tone="火爆; 硬派; 热血; 刺激",
        nouns="特工; 枪战; 飞车; 功夫; 拳击; 雇佣兵; 追捕; 卧底; 黑帮; 赛车",
        adjs="危险的; 混乱的; 无人的; 午夜的",
        people="退役特种兵; 卧底警察; 功夫高手; 赏金猎人; 女特工; 拳击手",
        places="香港; 曼谷; 边境小镇; 港口; 沙漠; 地下拳场",
        titles="{noun}风暴; 极速{noun}; {place}追击; 绝命{noun}; {noun}之王; 终极{noun}; 血战{place}",
        main="{person}为了救出家人，只身闯入{place}的黑帮据点。; "
        "一部节奏紧凑的{tone}动作{fmt}，飞车和枪战场面一气呵成。; "
        "影片讲述了{person}在{place}追捕国际通缉犯的故事。; 拳拳到肉的近身对决，打斗设计非常精彩。",
        extra="爆炸和追车戏份十足，全程肾上腺素飙升。; 动作指导出自功夫名家，招招硬桥硬马。; "
        "{adj}{place}里，一场关于{noun}的较量一触即发。",
        pos="打戏太爽了，{noun}那场戏拍得行云流水！; 节奏紧凑，{person}帅炸了。; 动作设计一流，看得肾上腺素飙升。; "
        "枪战和飞车都很燃，功夫片迷一定要看。",
        neg="只有爆炸没有剧情，{noun}看多了也累。; 打斗剪辑太碎，看得头晕。; {person}开了主角光环，一点也不紧张。",
        ident="动作片狂热粉; 健身爱好者; 功夫片老影迷; 赛车迷",
        interest="最喜欢看飞车和枪战。; 下班就想看点拳拳到肉的打戏。; 成龙和李连杰的功夫片看了无数遍。",
        tags="#动作; #功夫; #枪战",
    ),
    _cat(
        "爱情",
        genre="爱情片",
        related="喜剧; 喜剧; 音乐; 家庭",
        formats="电影; 电视剧; 网剧",
        tone="浪漫; 温柔; 甜蜜; 治愈",
        nouns="初恋; 婚礼; 告白; 重逢; 暗恋; 约定; 异地恋; 情书; 心动; 誓言",
        adjs="夏天的; 雨中的; 遥远的; 错过的",
        people="咖啡店老板; 年轻画家; 女医生; 钢琴老师; 大学生; 摄影师",
        places="巴黎; 海边小镇; 大理; 厦门; 樱花树下; 校园",
        titles="{place}的{noun}; {noun}那年; 再见{noun}; 遇见{place}; {noun}时光; 你好，{noun}; 最美的{noun}",
        main="{person}在{place}与多年未见的初恋意外重逢。; 一段跨越十年的爱情故事，温暖又带点遗憾。; "
        "影片讲述了{person}和一位陌生人之间关于{noun}的故事。; 关于青春、暗恋和错过的{tone}爱情{fmt}。",
        extra="男女主角的感情线细腻动人，结局让人泪目。; 取景唯美，{place}的每一帧都很浪漫。; "
        "适合情侣一起观看的甜蜜爱情片。",
        pos="太好哭了，{noun}那段我哭成狗。; 男女主很有化学反应，甜到心里。; 温柔治愈的爱情片，适合一个人安静地看。; "
        "{place}的告白戏太浪漫了！",
        neg="剧情老套，{noun}的桥段太狗血。; 感情线莫名其妙，完全不能共情。; 男女主没有一点火花，爱情戏很尴尬。",
        ident="浪漫主义者; 言情小说重度读者; 追剧少女; 文艺青年",
        interest="喜欢看甜甜的恋爱故事。; 每年都要重温几部经典爱情片。; 一个人的晚上最适合看浪漫电影。",
        tags="#爱情; #浪漫; #青春",
    ),
    _cat(
        "喜剧",
        genre="喜剧片",
        related="爱情; 爱情; 家庭; 动画",
        formats="电影; 电视剧; 贺岁片",
        tone="爆笑; 轻松; 无厘头; 合家欢",
        nouns="乌龙; 误会; 闹剧; 奇遇; 囧途; 骗局; 假期; 相亲",
        adjs="疯狂的; 倒霉的; 离谱的; 热闹的",
        people="倒霉推销员; 话痨司机; 北漂青年; 退休大爷; 小演员; 外卖小哥",
        places="东北; 泰国; 春运路上; 老小区; 办公室; 乡下",
        titles="{noun}大作战; {place}囧途; 欢乐{noun}; 疯狂的{noun}; {place}奇遇记; 爆笑{noun}; 我的{adj}一天",
        main="{person}在{place}遭遇一连串啼笑皆非的乌龙事件。; 一部笑点密集的{tone}喜剧{fmt}，轻松解压。; "
        "影片讲述了{person}卷入一场{noun}的搞笑故事。; 包袱一个接一个，全家人都能看得哈哈大笑。",
        extra="台词接地气，笑点一个接一个。; 喜剧演员阵容强大，小品味十足。; {adj}一天，{person}的麻烦越来越多。",
        pos="笑到肚子疼，{noun}那段太逗了！; 轻松解压，{person}演得太好笑了。; 全程爆笑，周末看正合适。; "
        "喜剧节奏把握得很好，每个包袱都响。",
        neg="笑点尴尬，全是网上的老段子。; 硬凹搞笑，看得我一脸问号。; 喜剧不好笑，{person}太浮夸了。",
        ident="段子手; 脱口秀爱好者; 开心果; 相声迷",
        interest="下班只想看点轻松搞笑的。; 喜欢看喜剧解压。; 相声小品百听不厌。",
        tags="#喜剧; #搞笑; #脱口秀",
    ),
    _cat(
        "悬疑",
        genre="悬疑片",
        related="历史; 历史; 动作; 纪录片",
        formats="电影; 电视剧; 网剧",
        tone="烧脑; 高能; 硬核; 本格",
        nouns="凶手; 密室; 线索; 谜团; 嫌疑人; 失踪案; 连环案; 证人; 真相; 目击者",
        adjs="尘封的; 诡异的; 迷雾中的; 寂静的",
        people="刑警; 私家侦探; 法医; 推理小说家; 记者; 退休警探",
        places="老宅; 雪山旅馆; 小镇; 孤岛; 江南古镇; 深夜列车",
        titles="{place}谜案; 消失的{noun}; {noun}追踪; 第七个{noun}; 无声的{noun}; {noun}疑云; {place}的秘密",
        main="{place}发生一起离奇命案，{person}必须在七天内找出凶手。; "
        "一部层层反转的{tone}悬疑{fmt}，每个线索都不简单。; "
        "{person}重新调查一桩尘封多年的失踪案。; 密室、不在场证明和谎言交织，真相直到最后一刻才揭晓。",
        extra="剧情烧脑，结局的反转出人意料。; 每一个嫌疑人都有自己的秘密。; {adj}{place}里，{noun}正在慢慢浮出水面。",
        pos="结局反转太惊艳了，完全没猜到凶手！; 线索埋得很细，{person}的推理很精彩。; 悬疑氛围拉满，一口气看完。; "
        "{noun}的设计太巧妙了，推理迷必看。",
        neg="{noun}的伏笔太明显，看一半就知道结局。; 逻辑漏洞太多，反转很生硬。; 故弄玄虚，{person}的推理站不住脚。",
        ident="推理迷; 剧本杀爱好者; 侦探小说爱好者; 烧脑剧爱好者",
        interest="总想在侦探之前猜出凶手。; 越烧脑的悬疑剧越喜欢。; 看完推理片总要复盘一遍线索。",
        tags="#悬疑; #推理; #烧脑",
    ),
    _cat(
        "历史",
        genre="历史剧",
        related="悬疑; 悬疑; 纪录片; 动作",
        formats="电视剧; 电影; 历史正剧",
        tone="恢宏; 厚重; 考究; 写实",
        nouns="王朝; 皇帝; 宫廷; 将军; 变法; 丝绸之路; 古城; 帝国; 谋士; 公主",
        adjs="乱世中的; 千年前的; 繁华的; 烽火中的",
        people="少年将军; 宰相; 女皇; 史官; 谋士; 商队首领",
        places="长安; 大唐; 三国; 大明; 敦煌; 洛阳; 汴京",
        titles="大{place}; {place}风云; {noun}春秋; {place}往事; 烽火{place}; {place}的{noun}; 最后的{noun}",
        main="以{place}为背景，讲述了{person}在乱世中的沉浮。; "
        "一部风格{tone}的历史{fmt}，还原了宫廷与战争的真实面貌。; "
        "{person}卷入一场改变{noun}命运的宫廷斗争。; 服化道考究，再现了{place}的市井生活。",
        extra="历史细节扎实，人物群像鲜活。; 王朝兴衰与家国情怀交织，值得细品。; "
        "宏大的战争场面再现了{place}的风云变幻。",
        pos="服化道太考究了，{place}的街景美得像画。; 历史细节很扎实，{person}演得很有气场。; 看完忍不住去翻史书。; "
        "{noun}的那场戏拍得荡气回肠。",
        neg="乱改历史，{noun}的情节太离谱。; 节奏太慢，台词像念课本。; 宫斗太多，{place}的历史背景反而没讲清楚。",
        ident="历史爱好者; 博物馆常客; 古风迷; 三国迷",
        interest="喜欢看以唐朝和宋朝为背景的剧。; 周末常去博物馆看文物。; 对王朝兴衰的故事百看不厌。",
        tags="#历史; #古装; #三国",
    ),
    _cat(
        "纪录片",
        genre="纪录片",
        related="历史; 历史; 科幻; 音乐",
        formats="纪录片; 系列纪录片; 纪录电影",
        tone="壮美; 温情; 朴实; 震撼",
        nouns="野生动物; 美食; 海洋; 非遗; 手艺人; 地球; 考古; 候鸟; 雪豹; 古建筑",
        adjs="壮美的; 神秘的; 遥远的; 古老的",
        people="摄影团队; 手艺人; 科学家; 渔民; 考古学家; 牧民",
        places="青藏高原; 长江; 深海; 热带雨林; 敦煌; 北极",
        titles="{noun}的秘密; {place}之旅; 我们的{noun}; 寻找{noun}; {place}四季; 聆听{place}",
        main="摄制组历时三年，记录了{place}的四季与生灵。; 一部关于{noun}的{fmt}，画面壮美，解说动人。; "
        "跟随{person}的脚步，走进{adj}{place}。; 用镜头讲述普通人与{noun}的故事。",
        extra="航拍镜头震撼，配乐大气。; 解说温和克制，知识量很大。; 适合全家一起观看的自然纪录片。",
        pos="画面太美了，{place}的镜头每一帧都是壁纸。; 解说很有温度，学到了很多关于{noun}的知识。; "
        "良心纪录片，值得反复看。",
        neg="内容太浅，{noun}部分像宣传片。; 配乐太吵，解说也平淡。",
        ident="纪录片爱好者; 自然迷; 摄影爱好者",
        interest="最爱看关于大自然的纪录片。; 喜欢了解各地的风土人情。",
        tags="#纪录片; #自然",
    ),
    _cat(
        "动画",
        genre="动画片",
        related="家庭; 家庭; 喜剧; 科幻",
        formats="动画电影; 动画剧集; 动画短片",
        tone="温暖; 童趣; 奇幻; 治愈",
        nouns="小猫; 恐龙; 小熊; 精灵; 宝藏; 小怪兽; 小狐狸; 魔法书; 小龙; 独角兽",
        adjs="神奇的; 可爱的; 勇敢的; 奇妙的",
        people="小女孩; 小熊; 小机器人; 小狐狸; 少年; 小龙",
        places="魔法森林; 海底世界; 云端王国; 糖果小镇; 恐龙岛; 月亮村",
        titles="{noun}历险记; {place}奇遇; 勇敢的{noun}; {noun}王国; 会飞的{noun}; {place}大冒险",
        main="{person}和朋友们在{place}展开了一场奇妙的冒险。; 画风温暖可爱，适合全家一起观看的{tone}{fmt}。; "
        "一部关于友情、勇气和{noun}的动画片。; {person}为了寻找失落的{noun}，踏上了穿越{place}的旅程。",
        extra="色彩明亮，角色设计萌翻了。; 配音生动，孩子和大人都能看得开心。; {adj}{place}里藏着许多惊喜。",
        pos="画面太可爱了，孩子看了三遍还要看！; {person}好萌，故事也很感人。; 大人小孩都喜欢，结尾有点泪目。; "
        "{noun}的设定太有想象力了，动画做得很用心。",
        neg="剧情太幼稚，{noun}的设定很单薄。; 画面粗糙，孩子看了一半就不看了。; 动画节奏太快，小朋友看不懂。",
        ident="二次元爱好者; 两个孩子的妈妈; 动漫迷; 宫崎骏粉丝",
        interest="周末经常陪孩子看动画片。; 好的动画片大人也爱看。; 收藏了很多动画电影的原声。",
        tags="#动画; #亲子; #宫崎骏",
    ),
    _cat(
        "音乐",
        genre="音乐电影",
        related="爱情; 爱情; 纪录片; 喜剧",
        formats="音乐电影; 演唱会实录; 音乐纪录片",
        tone="热血; 动人; 燃爆; 安静",
        nouns="乐队; 演唱会; 摇滚; 钢琴; 民谣; 舞台; 吉他; 音乐节; 合唱团; 爵士",
        adjs="沸腾的; 安静的; 热血的; 难忘的",
        people="落魄歌手; 钢琴少女; 摇滚乐队; 音乐老师; 街头艺人; 作曲家",
        places="地下室; 音乐节现场; 小酒馆; 维也纳; 录音棚",
        titles="{noun}少年; {place}之声; 为你唱{noun}; {noun}之夜; 听见{noun}",
        main="{person}为了梦想，在{place}坚持演出十年。; 一部关于音乐与青春的{tone}{fmt}，原声带非常好听。; "
        "讲述了{person}组建乐队、登上音乐节舞台的故事。; 影片收录了多首经典歌曲，{noun}的段落现场感十足。",
        extra="现场演唱感染力十足。; 原声带值得单曲循环。",
        pos="原声带单曲循环了一整周！; {person}的演唱太有感染力了，鸡皮疙瘩都起来了。; "
        "关于梦想的好电影，{noun}那段超燃。",
        neg="歌好听但剧情很弱。; {noun}的部分太长，有点无聊。",
        ident="音乐发烧友; 业余吉他手; 音乐节常客",
        interest="喜欢民谣和摇滚。; 每年都去音乐节。",
        tags="#音乐; #摇滚",
    ),
    _cat(
        "家庭",
        genre="家庭剧",
        related="动画; 动画; 喜剧; 爱情",
        formats="电视剧; 电影; 家庭剧",
        tone="温情; 写实; 治愈; 平实",
        nouns="亲情; 父亲; 母亲; 团圆; 成长; 爷爷; 老房子; 年夜饭; 兄妹; 婚姻",
        adjs="温暖的; 平凡的; 热闹的; 久违的",
        people="单亲妈妈; 倔强的老父亲; 留守儿童; 三兄妹; 中年夫妻; 外婆",
        places="老家; 胡同; 小县城; 四合院; 外婆家; 新小区",
        titles="{noun}的味道; 我们这一家; {place}的{noun}; {noun}日记; 回到{place}; {adj}{place}",
        main="{person}和家人之间的矛盾与和解，温暖又真实。; 一部关于{noun}与成长的{tone}{fmt}，看哭了很多观众。; "
        "以{place}为背景，讲述了一个普通家庭的几十年。; 春节前夕，{person}带着秘密回到{place}。",
        extra="家长里短中见真情。; 演员演技自然，细节很有生活气息。; {adj}{place}，藏着一家人的悲欢离合。",
        pos="太真实了，看到{noun}那段想起了我爸妈。; 温暖治愈，适合全家一起看。; 演员演技很自然，像在看自己的家。; "
        "{person}的故事让我哭了好几次。",
        neg="矛盾太狗血，{noun}的戏份拖沓。; 说教味太重。; 家庭矛盾写得太刻意，{person}的转变很突兀。",
        ident="两个孩子的爸爸; 顾家的上班族; 新手妈妈; 三代同堂的大家庭成员",
        interest="喜欢和家人一起看温情片。; 周末全家一起追剧是最幸福的时光。; 每次看家庭剧都会想起小时候。",
        tags="#家庭; #亲情; #亲子",
    ),
)

ZH_OCCUPATIONS = (
    "学生",
    "程序员",
    "教师",
    "医生",
    "设计师",
    "销售",
    "公务员",
    "会计",
    "工程师",
    "自由职业",
    "退休",
    "护士",
    "产品经理",
    "记者",
    "厨师",
)
ZH_CITIES = (
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "重庆",
    "长沙",
    "苏州",
    "天津",
    "厦门",
    "青岛",
)
ZH_SEGMENTS = (
    Segment(
        "科幻动作迷", ("科幻", "动作"), 0.30, 26, 6, (0.30, 0.67, 0.03), ("学生", "程序员", "工程师"), ("深圳", "杭州")
    ),
    Segment(
        "爱情喜剧党",
        ("爱情", "喜剧"),
        0.27,
        27,
        7,
        (0.72, 0.25, 0.03),
        ("学生", "设计师", "销售", "护士"),
        ("上海", "成都"),
    ),
    Segment(
        "悬疑历史控",
        ("悬疑", "历史"),
        0.23,
        40,
        11,
        (0.45, 0.52, 0.03),
        ("教师", "公务员", "医生", "记者"),
        ("西安", "北京", "南京"),
    ),
    Segment(
        "亲子动画家庭",
        ("动画", "家庭"),
        0.20,
        36,
        6,
        (0.60, 0.38, 0.02),
        ("会计", "自由职业", "教师", "产品经理"),
        ("苏州", "长沙"),
    ),
)

ZH = Locale(
    key="zh",
    seed=20250102,
    n_users=200,
    n_items=120,
    n_interactions=6000,
    min_per_user=8,
    max_per_user=50,
    activity_sigma=0.45,
    categories=ZH_CATEGORIES,
    segments=ZH_SEGMENTS,
    occupations=ZH_OCCUPATIONS,
    cities=ZH_CITIES,
    generic_pos=_split(
        "强烈推荐！; 值得一看。; 五星好评。; 《{title}》果然名不虚传。; 已经推荐给朋友了。; 二刷了，依然很喜欢。",
        sentences=True,
    ),
    generic_neg=_split("浪费时间。; 不推荐。; 《{title}》有点名不副实。; 看到一半就关了。", sentences=True),
    generic_mixed=_split(
        "还行吧，中规中矩。; 有亮点，但{noun}的部分有点拖。; 一般般，打发时间可以。; 三星，本来期待更高。",
        sentences=True,
    ),
    bio_templates=_split(
        "我爱看电影，特别喜欢{genre1}和{genre2}。; {ident1}，{ident2}。{interest1}; {ident1}。{interest1}; "
        "平时是{occupation}，{interest1}; {interest1}{interest2}"
    ),
    bio_no_job=("退休", "自由职业"),
    sentence_sep="",
    english=False,
)

LOCALES = (EN, ZH)


# ----------------------------------------------------------------------------------------------- small helpers
def _pick(rng: np.random.Generator, seq):
    """One element of ``seq``, uniformly."""
    return seq[int(rng.integers(len(seq)))]


def _categorical(rng: np.random.Generator, weights, size: int | None = None):
    """Draw indices with probability proportional to ``weights`` (inverse CDF on ``rng.random``).

    Written out instead of ``Generator.choice`` so the stream depends only on ``random()``.
    """
    cdf = np.cumsum(np.asarray(weights, dtype=float))
    cdf /= cdf[-1]
    u = rng.random(1 if size is None else size)
    idx = np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    return int(idx[0]) if size is None else idx


def _sample_distinct(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct indices, weighted sampling without replacement (Efraimidis–Spirakis keys)."""
    keys = np.log1p(-rng.random(len(weights))) / weights  # log(U) / w with U in (0, 1]
    return np.argsort(-keys, kind="stable")[:k]


def _apportion(shares, total: int) -> np.ndarray:
    """Integer counts proportional to ``shares`` that sum to ``total`` (largest remainder)."""
    shares = np.asarray(shares, dtype=float)
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


_AN_EXCEPTIONS = ("uni", "use", "usu", "one", "eu", "u-")
_AN_WORDS = ("hour", "honest", "honor")
_AN_LETTERS = set("AEFHILMNORSX")  # letters whose spoken name starts with a vowel sound (an AI, an MBA)


def _article(word: str) -> str:
    low = word.lower()
    if word.isupper() and len(word) > 1:
        return "an" if word[0] in _AN_LETTERS else "a"
    if low.startswith(_AN_WORDS):
        return "an"
    if low[:1] in "aeiou" and not low.startswith(_AN_EXCEPTIONS):
        return "an"
    return "a"


def _fix_articles(text: str) -> str:
    """Make every "a"/"an" agree with the word after it (templates cannot know which noun comes)."""

    def repl(m: re.Match) -> str:
        art = _article(m.group(2))
        if m.group(1)[0].isupper():
            art = art.capitalize()
        return f"{art} {m.group(2)}"

    return re.sub(r"\b(an|a|An|A) ([\w'-]+)", repl, text)


_SMALL_WORDS = {"a", "an", "and", "at", "for", "from", "in", "of", "on", "or", "the", "to", "over", "with"}


def _title_case(text: str) -> str:
    """Headline case that keeps acronyms (AI, DNA) and lower-cases short function words."""
    words = text.split(" ")
    out = []
    for i, w in enumerate(words):
        if i > 0 and w.lower() in _SMALL_WORDS and not words[i - 1].endswith(":"):
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


def _sentence_case(text: str) -> str:
    """Capitalise the first letter of every sentence."""
    return re.sub(r"(^|[.!?] )([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


class _Writer:
    """Fills templates with a category's vocabulary and tidies the English."""

    def __init__(self, locale: Locale, rng: np.random.Generator):
        self.locale = locale
        self.rng = rng

    def slots(self, cat: Category, title: str = "", fmt: str | None = None) -> dict[str, str]:
        """A fresh random filling of every slot from ``cat``'s vocabulary."""
        rng = self.rng
        return {
            "noun": _pick(rng, cat.nouns),
            "adj": _pick(rng, cat.adjs),
            "tone": _pick(rng, cat.tone),
            "person": _pick(rng, cat.people),
            "place": _pick(rng, cat.places),
            "fmt": fmt if fmt is not None else _pick(rng, cat.formats),
            "title": title,
        }

    def fill(self, template: str, slots: dict[str, str]) -> str:
        text = template.format_map(slots)
        if self.locale.english:
            text = _sentence_case(_fix_articles(text))
        return text

    def join(self, sentences) -> str:
        return self.locale.sentence_sep.join(s for s in sentences if s)


# ----------------------------------------------------------------------------------------------- stages
def _make_items(locale: Locale, rng: np.random.Generator, writer: _Writer):
    """Items with 1–3 categories (primary first), text, a quality offset and a within-category popularity.

    Returns the items table, per-item arrays (primary category index, popularity weight, quality) and
    per-item slot fillings (noun, person, place, format) that the item's reviews talk about again.
    """
    cats = locale.categories
    names = [c.name for c in cats]
    planted = {name for seg in locale.segments for name in seg.categories}
    # Planted categories carry the traffic, so they get more items; the others stay smaller niches.
    size_w = np.array([1.0 if c.name in planted else 0.6 for c in cats]) * (0.85 + 0.3 * rng.random(len(cats)))
    sizes = _apportion(size_w, locale.n_items)
    primary = np.repeat(np.arange(len(cats)), sizes)
    # Interleave categories over the ids so that item ids carry no information.
    primary = primary[rng.permutation(locale.n_items)]

    # Zipf-like long tail within each category: rank r gets weight 1 / (r + 1) ** s, ranks shuffled.
    popularity = np.empty(locale.n_items)
    for c in range(len(cats)):
        members = np.flatnonzero(primary == c)
        ranks = rng.permutation(len(members))
        popularity[members] = 1.0 / (ranks + 1.0) ** locale.zipf_exponent
    quality = rng.normal(0.0, 0.35, locale.n_items)

    titles_seen: set[str] = set()
    rows, item_slots = [], []
    for i in range(locale.n_items):
        cat = cats[primary[i]]
        n_cats = 1 + _categorical(rng, [0.45, 0.40, 0.15])
        item_cats = [cat.name]
        while len(item_cats) < n_cats:
            # Mostly a related category (a sci-fi film tagged science), sometimes any other.
            extra = _pick(rng, cat.related) if rng.random() < 0.8 else _pick(rng, names)
            if extra not in item_cats:
                item_cats.append(extra)
        fmt = _pick(writer.rng, cat.formats)
        title = ""
        for _attempt in range(50):
            slots = writer.slots(cat, fmt=fmt)
            title = writer.fill(_pick(writer.rng, cat.titles), slots)
            if locale.english:
                title = _title_case(title)
            if title not in titles_seen:
                break
        if title in titles_seen:  # the vocabulary ran out of combinations: number the sequel
            n = 2
            while f"{title} {n}" in titles_seen:
                n += 1
            title = f"{title} {n}"
        titles_seen.add(title)
        sentences = [writer.fill(_pick(writer.rng, cat.main), slots)]
        n_extra = _categorical(writer.rng, [0.25, 0.5, 0.25])
        pools = {cat.name: list(cat.extra)}
        for k in range(n_extra):
            # The second extra sentence may speak for a secondary category: that is what it is tagged for.
            src = cat
            if k == 1 and len(item_cats) > 1 and writer.rng.random() < 0.5:
                src = cats[names.index(item_cats[1])]
            pool = pools.setdefault(src.name, list(src.extra))
            template = pool.pop(int(writer.rng.integers(len(pool))))
            sentences.append(writer.fill(template, writer.slots(src, fmt=fmt)))
        rows.append((f"i{i + 1:04d}", title, writer.join(sentences), "|".join(item_cats)))
        item_slots.append({key: slots[key] for key in ("noun", "person", "place", "fmt")} | {"title": title})
    items = pd.DataFrame(rows, columns=["item_id", "title", "description", "categories"])
    return items, primary, popularity, quality, item_slots


def _make_users(locale: Locale, rng: np.random.Generator, writer: _Writer):
    """Users: segment, preferred categories with weights, demographics and bio.

    Returns the users table, the ground-truth table and per-user arrays used by the interactions.
    """
    cats = locale.categories
    names = [c.name for c in cats]
    segs = locale.segments
    planted = {name for seg in segs for name in seg.categories}
    # A personal extra interest comes from the categories no segment owns, so it adds a personal
    # flavour without pulling the user towards another segment.
    extras = [i for i, name in enumerate(names) if name not in planted]

    segment = np.repeat(np.arange(len(segs)), _apportion([s.share for s in segs], locale.n_users))
    segment = segment[rng.permutation(locale.n_users)]

    users, truth, prefs = [], [], []
    for u in range(locale.n_users):
        seg = segs[segment[u]]
        pref = [names.index(c) for c in seg.categories]
        split = 0.5 + rng.uniform(-0.15, 0.15)  # how the user divides attention between the segment's two
        weights = [split, 1.0 - split]
        if rng.random() < locale.extra_rate:
            pref.append(_pick(rng, extras))
            share = rng.uniform(0.12, 0.25)
            weights = [w * (1.0 - share) for w in weights] + [share]
        prefs.append((np.array(pref), np.array(weights)))

        age = int(np.clip(np.rint(rng.normal(seg.age_mean, seg.age_sd)), 16, 85))
        gender = GENDERS[_categorical(rng, seg.gender_p)]
        occ_w = [locale.boost if o in seg.occupations else 1.0 for o in locale.occupations]
        if age >= 65:  # retirement age makes "retired" likely whatever the segment
            occ_w = [
                w * (8.0 if o in ("retired", "退休") else 0.3) for w, o in zip(occ_w, locale.occupations, strict=True)
            ]
        elif age < 23:
            occ_w = [
                w * (6.0 if o in ("student", "学生") else 1.0) for w, o in zip(occ_w, locale.occupations, strict=True)
            ]
        else:
            occ_w = [0.0 if o in ("retired", "退休") else w for w, o in zip(occ_w, locale.occupations, strict=True)]
        occupation = locale.occupations[_categorical(rng, occ_w)]
        city_w = [locale.boost / 2 if c in seg.cities else 1.0 for c in locale.cities]
        city = locale.cities[_categorical(rng, city_w)]
        bio = ""
        if rng.random() < locale.bio_rate:
            bio = _bio(locale, writer, [cats[c] for c in pref], weights, occupation)
        uid = f"u{u + 1:04d}"
        users.append((uid, age, gender, occupation, city, bio))
        truth.append((uid, int(segment[u]), seg.name, "|".join(names[c] for c in pref)))
    users_df = pd.DataFrame(users, columns=["user_id", "age", "gender", "occupation", "city", "bio"])
    truth_df = pd.DataFrame(truth, columns=["user_id", "segment", "segment_name", "preferred_categories"])
    return users_df, truth_df, prefs


def _bio(locale: Locale, writer: _Writer, pref: list[Category], weights, occupation: str) -> str:
    """A short self-description naming one or two of the user's interests (sometimes an unrelated hobby)."""
    rng = writer.rng
    first = int(_categorical(rng, weights))
    order = [first] + [i for i in range(len(pref)) if i != first]
    cat1, cat2 = pref[order[0]], pref[order[1]]
    if rng.random() < 0.2:  # people mention hobbies the shop has nothing to do with
        cat2 = _pick(rng, locale.categories)
    templates = [t for t in locale.bio_templates if "{occupation}" not in t or occupation not in locale.bio_no_job]
    interest2 = _pick(rng, cat2.interest)
    interest1 = _pick(rng, [s for s in cat1.interest if s != interest2] or cat1.interest)
    ident1 = _pick(rng, cat1.ident)
    ident2 = _pick(rng, [s for s in cat2.ident if s != ident1] or cat2.ident)
    text = _pick(rng, templates).format(
        ident1=ident1,
        ident2=ident2,
        interest1=interest1,
        interest2=interest2,
        genre1=cat1.genre,
        genre2=cat2.genre if cat2 is not cat1 else pref[order[1]].genre,
        occupation=occupation,
    )
    if locale.english:
        text = text[:1].upper() + text[1:]
    if rng.random() < locale.tag_rate:
        tags = [_pick(rng, cat1.tags), _pick(rng, cat2.tags)]
        text += " " + " ".join(dict.fromkeys(tags))
    return text


def _activity(locale: Locale, rng: np.random.Generator) -> np.ndarray:
    """Interactions per user: log-normal (skewed), clipped to the locale's range, summing to the target."""
    z = rng.normal(size=locale.n_users)
    lo, hi = locale.min_per_user, locale.max_per_user

    def counts(mu: float) -> np.ndarray:
        return np.clip(np.rint(np.exp(mu + locale.activity_sigma * z)), lo, hi).astype(int)

    a, b = 0.0, np.log(hi) + 1.0  # bisect the median so that the total lands on target
    for _ in range(60):
        mid = (a + b) / 2
        a, b = (mid, b) if counts(mid).sum() < locale.n_interactions else (a, mid)
    n = counts(b)
    diff = locale.n_interactions - int(n.sum())
    while diff != 0:  # settle the last few interactions one at a time
        u = int(rng.integers(locale.n_users))
        step = 1 if diff > 0 else -1
        if lo <= n[u] + step <= hi:
            n[u] += step
            diff -= step
    return n


def _day_weights() -> np.ndarray:
    """Relative activity per day of 2025: busier weekends and a Nov–Dec holiday season."""
    days = np.arange(N_DAYS)
    weekday = (days + FIRST_WEEKDAY) % 7
    w = np.where(weekday >= 5, 1.4, 1.0)
    w = w * np.where(days >= 304, 1.3, 1.0)  # from November 1st
    return w


def _timestamps(rng: np.random.Generator, n: int, day_w: np.ndarray) -> np.ndarray:
    """``n`` distinct seconds since 2025-01-01 within one user's active window, sorted."""
    # Most users were customers all year; some joined during the year, some stopped coming (a steady shop,
    # busier at the end of the year because of the holiday season, not because all newcomers cram in there).
    start = 0 if rng.random() < 0.8 else int(rng.integers(0, 270))
    end = N_DAYS - 1 if rng.random() < 0.8 else int(rng.integers(min(start + 60, N_DAYS - 1), N_DAYS))
    window = day_w[start : end + 1]
    secs = np.empty(0, dtype=np.int64)
    while len(secs) < n:  # a redraw only when two land on the same second
        k = n - len(secs)
        day = start + _categorical(rng, window, k)
        hour = _categorical(rng, HOUR_WEIGHTS, k)
        new = day * 86400 + hour * 3600 + rng.integers(0, 3600, k)
        secs = np.unique(np.concatenate([secs, new]))
    return secs


def _user_items(rng, n_pref, n_noise, pref, pref_w, primary, popularity, noise_w, reconsume_rate):
    """Items of one user: ``n_pref`` from the preferred categories, ``n_noise`` from any category.

    Items are distinct except for a few deliberate re-consumptions, and for preferred draws left
    over once a user has consumed every item of the preferred categories (only in the small zh sample).
    """
    n_cats = len(noise_w)
    room = np.bincount(primary, minlength=n_cats)
    n_repeat = int((rng.random(n_pref) < reconsume_rate).sum())
    n_repeat = min(n_repeat, n_pref - 1)
    drawn = np.zeros(n_cats, dtype=int)
    for _ in range(n_pref - n_repeat):
        w = pref_w * (room[pref] > drawn[pref])
        if w.sum() == 0:  # the preferred shelves are empty: this one becomes a re-consumption
            n_repeat += 1
            continue
        drawn[pref[_categorical(rng, w)]] += 1
    for _ in range(n_noise):
        drawn[_categorical(rng, noise_w * (room > drawn))] += 1
    chosen = []
    for c in np.flatnonzero(drawn):
        members = np.flatnonzero(primary == c)
        chosen.append(members[_sample_distinct(rng, popularity[members], drawn[c])])
    chosen = np.concatenate(chosen)
    in_pref = np.isin(primary[chosen], pref)
    if n_repeat:
        # Re-consume what one liked: copies of preferred items (keeps the preferred share intact).
        liked = chosen[in_pref]
        chosen = np.concatenate([chosen, liked[rng.integers(0, len(liked), n_repeat)]])
    repeat = np.zeros(len(chosen), dtype=bool)
    repeat[len(chosen) - n_repeat :] = True
    return chosen, repeat


def _make_interactions(locale, rng, prefs, primary, popularity):
    """The interaction log as arrays: user, item, seconds since 2025-01-01, preferred and repeat flags."""
    n_per_user = _activity(locale, rng)
    sizes = np.bincount(primary, minlength=len(locale.categories))
    noise_w = sizes / sizes.sum()  # noise follows the shop's assortment
    day_w = _day_weights()
    lo, hi = locale.noise_range
    cols = {"user": [], "item": [], "secs": [], "pref": [], "repeat": []}
    for u, n in enumerate(n_per_user):
        pref, pref_w = prefs[u]
        # Cap the noise so that >= 70 % of every user's interactions are preferred, even for n = 8.
        n_noise = min(int(np.rint(n * rng.uniform(lo, hi))), int(np.floor(0.3 * n)))
        items, repeat = _user_items(
            rng, n - n_noise, n_noise, pref, pref_w, primary, popularity, noise_w, locale.reconsume_rate
        )
        order = rng.permutation(n)  # which interaction happens when
        cols["user"].append(np.full(n, u))
        cols["item"].append(items[order])
        cols["repeat"].append(repeat[order])
        cols["pref"].append(np.isin(primary[items[order]], pref))
        cols["secs"].append(_timestamps(rng, n, day_w))
    arr = {k: np.concatenate(v) for k, v in cols.items()}
    return arr


def _plant_drift(locale, rng, arr, truth, primary, popularity) -> dict[int, int]:
    """Interest drift: a seeded set of users whose preferred categories change halfway through the year.

    From :data:`DRIFT_DAY` on, every *preferred* interaction of a drifting user (not the noise, not a
    re-consumption) is redrawn from another segment's two categories, by popularity and without
    repeating an item of the user. Users are chosen among those with :data:`MIN_EACH_SIDE`
    interactions on either side of the day. Returns {user index: the segment drifted to}; ``arr``
    is changed in place. Its own random stream, so the rest of the plant is untouched.
    """
    if not locale.drift_users:
        return {}
    names = [c.name for c in locale.categories]
    n_segs = len(locale.segments)
    late = arr["secs"] >= DRIFT_DAY * 86400
    n_users = int(arr["user"].max()) + 1
    before = np.bincount(arr["user"][~late], minlength=n_users)
    after = np.bincount(arr["user"][late], minlength=n_users)
    candidates = np.flatnonzero((before >= MIN_EACH_SIDE) & (after >= MIN_EACH_SIDE))
    chosen = np.sort(candidates[rng.permutation(len(candidates))[: locale.drift_users]])
    segment = truth["segment"].to_numpy()
    starts = np.searchsorted(arr["user"], np.arange(n_users + 1))  # arr is grouped by user
    drift = {}
    for u in chosen:
        new_seg = int((segment[u] + rng.integers(1, n_segs)) % n_segs)
        cats = np.array([names.index(c) for c in locale.segments[new_seg].categories])
        split = 0.5 + rng.uniform(-0.15, 0.15)
        rows = np.arange(starts[u], starts[u + 1])
        rows = rows[late[rows] & arr["pref"][rows] & ~arr["repeat"][rows]]
        drawn = np.bincount(_categorical(rng, [split, 1.0 - split], len(rows)), minlength=2)
        taken = set(arr["item"][starts[u] : starts[u + 1]].tolist())
        new_items = []
        for c, k in zip(cats, drawn, strict=True):
            members = np.array([i for i in np.flatnonzero(primary == c) if i not in taken])
            new_items.append(members[_sample_distinct(rng, popularity[members], int(k))])
        new_items = np.concatenate(new_items)
        arr["item"][rows] = new_items[rng.permutation(len(new_items))]
        drift[int(u)] = new_seg
    return drift


def _make_friends(locale, rng, arr, truth) -> pd.DataFrame | None:
    """A friendship graph over the users, with planted homophily and shared choices.

    Every user names ``locale.friends`` friends (uniform count), each of them inside the user's own
    planted segment with probability ``locale.homophily`` and in another segment otherwise. Within
    that pool a friend is drawn by how many items of the user's *later* history (the last
    :data:`COPIED_SHARE` of it, in time) the friend had chosen *before* the user did – as if the user had
    copied them – so friends say something about what a user takes up next that their segment alone
    does not.
    Friendships are undirected: a pair named twice is written once. ``weight`` (1–3) is how close
    the two are: 1 plus one for every :data:`CLOSE_ITEMS` items they share (at most 3). Its own random
    stream and computed from the finished log, so no other table changes.
    """
    if not locale.friends:
        return None
    n = locale.n_users
    segment = truth["segment"].to_numpy()
    has = np.zeros((n, locale.n_items), dtype=np.int32)
    has[arr["user"], arr["item"]] = 1
    first = np.full((n, locale.n_items), np.inf)  # when each user first chose each item
    np.minimum.at(first, (arr["user"], arr["item"]), arr["secs"].astype(float))
    starts = np.searchsorted(arr["user"], np.arange(n + 1))  # arr is grouped by user
    copied = np.zeros((n, n))  # copied[u, v]: items of u's later history that v had chosen before u did
    for u in range(n):
        rows = np.arange(starts[u], starts[u + 1])
        rows = rows[np.argsort(arr["secs"][rows], kind="stable")]
        later = np.unique(arr["item"][rows[int(np.floor((1.0 - COPIED_SHARE) * len(rows))) :]])
        copied[u] = (first[:, later] < first[u, later]).sum(axis=1)
    shared = has @ has.T
    lo, hi = locale.friends
    pairs, seen = [], set()
    for u in range(n):
        k = int(rng.integers(lo, hi + 1))
        inside = rng.random(k) < locale.homophily
        for pool_inside, count in ((True, int(inside.sum())), (False, int((~inside).sum()))):
            if count == 0:
                continue
            pool = np.flatnonzero((segment == segment[u]) == pool_inside)
            pool = pool[pool != u]
            weights = 0.01 + copied[u, pool] ** 3
            for v in pool[_sample_distinct(rng, weights, count)]:
                key = (min(u, int(v)), max(u, int(v)))
                if key not in seen:
                    seen.add(key)
                    pairs.append(key)
    pairs.sort()
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    ids = np.array([f"u{u + 1:04d}" for u in range(n)])
    closeness = 1 + np.minimum(2, shared[a, b] // CLOSE_ITEMS)
    return pd.DataFrame({"user_id": ids[a], "friend_id": ids[b], "weight": closeness.astype(int)})


#: The share of a user's history (the latest) that friends are drawn to share: what the user "copied".
COPIED_SHARE = 0.3
#: Shared items per step of a friendship's weight.
CLOSE_ITEMS = 12


def _rate(locale, rating_rng, arr, quality) -> None:
    """Ratings, in place: liked categories score higher; items differ in quality and users in leniency."""
    leniency = rating_rng.normal(0.0, 0.35, locale.n_users)
    mean = np.where(arr["pref"], 4.1, 3.0) + quality[arr["item"]] + leniency[arr["user"]] + 0.3 * arr["repeat"]
    rating = np.clip(np.rint(mean + rating_rng.normal(0.0, 0.75, len(mean))), 1, 5).astype(int)
    arr["rating"] = rating


def _review(locale: Locale, writer: _Writer, cat: Category, rating: int, item_slots: dict[str, str]) -> str:
    """One or two sentences whose tone follows the rating and whose words follow the item and its category."""
    rng = writer.rng
    slots = writer.slots(cat) | item_slots  # talk about the item's own starship / detective / recipe
    if rating >= 4:
        parts = [_pick(rng, cat.pos)] + ([_pick(rng, locale.generic_pos)] if rng.random() < 0.4 else [])
    elif rating <= 2:
        parts = [_pick(rng, cat.neg)] + ([_pick(rng, locale.generic_neg)] if rng.random() < 0.4 else [])
    else:
        parts = [_pick(rng, locale.generic_mixed)]
        if rng.random() < 0.5:
            parts.insert(0, _pick(rng, cat.pos if rng.random() < 0.5 else cat.neg))
    if rng.random() < 0.5:
        parts.reverse()  # vary where the generic sentence sits
    return writer.join(writer.fill(p, slots) for p in parts)


def build(locale: Locale) -> dict[str, pd.DataFrame]:
    """All four tables of one locale, sorted and ready to write.

    Parameters
    ----------
    locale : Locale
        :data:`EN` or :data:`ZH`.

    Returns
    -------
    dict of str to pandas.DataFrame
        File name -> table.
    """
    # the first 7 as before drift was planted, the 8th as before friends were: older tables stay the same
    streams = np.random.SeedSequence(locale.seed).spawn(9)
    r_items, r_item_text, r_users, r_user_text, r_inter, r_rating, r_review, r_drift, r_friends = (
        np.random.default_rng(s) for s in streams
    )
    items, primary, popularity, quality, item_slots = _make_items(locale, r_items, _Writer(locale, r_item_text))
    users, truth, prefs = _make_users(locale, r_users, _Writer(locale, r_user_text))
    arr = _make_interactions(locale, r_inter, prefs, primary, popularity)
    drift = _plant_drift(locale, r_drift, arr, truth, primary, popularity)
    _rate(locale, r_rating, arr, quality)  # a drifted row stays "preferred": the user likes the new interest
    truth["later_categories"] = [
        "|".join(locale.segments[drift[u]].categories) if u in drift else "" for u in range(len(truth))
    ]

    # Reviews: ~20 % of rows, a little likelier after a strong (very good or very bad) experience.
    extreme = (arr["rating"] == 1) | (arr["rating"] == 5)
    p_review = locale.review_rate * np.where(extreme, 1.25, 0.85)
    has_review = r_review.random(len(p_review)) < p_review
    writer = _Writer(locale, r_review)
    reviews = [
        _review(locale, writer, locale.categories[primary[i]], int(r), item_slots[i]) if w else ""
        for i, r, w in zip(arr["item"], arr["rating"], has_review, strict=True)
    ]
    stamps = np.datetime_as_string(YEAR_START + arr["secs"].astype("timedelta64[s]"), unit="s")
    interactions = pd.DataFrame(
        {
            "user_id": users["user_id"].to_numpy()[arr["user"]],
            "item_id": items["item_id"].to_numpy()[arr["item"]],
            "rating": arr["rating"],
            "timestamp": stamps,
            "review": reviews,
        }
    )
    interactions = interactions.sort_values(["user_id", "timestamp", "item_id"], kind="stable", ignore_index=True)
    tables = {
        "interactions.csv": interactions,
        "items.csv": items.sort_values("item_id", ignore_index=True),
        "users.csv": users.sort_values("user_id", ignore_index=True),
        "ground_truth.csv": truth.sort_values("user_id", ignore_index=True),
    }
    friends = _make_friends(locale, r_friends, arr, truth)
    if friends is not None:
        tables["friends.csv"] = friends
    return tables


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Path]:
    """Write tables as UTF-8 CSV with ``\\n`` line ends (no floats are involved, so no float format)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in tables.items():
        path = out_dir / name
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        paths.append(path)
    return paths


def generate(out_dir: str | Path = HERE) -> list[Path]:
    """Regenerate both samples: English into ``out_dir``, Chinese into ``out_dir / "zh"``.

    Parameters
    ----------
    out_dir : str or Path, default: this file's folder
        Where to write. Existing files of the same names are overwritten.

    Returns
    -------
    list of Path
        The files written.
    """
    out_dir = Path(out_dir)
    written = write_tables(build(EN), out_dir)
    written += write_tables(build(ZH), out_dir / "zh")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
