"""Synthetic online-shop log with a planted ground truth, large enough to load-test mgviz.

Every user belongs to one of ``n_segments`` planted segments; a segment prefers 2–4 of the 40
product categories. A user's interactions go mostly to items whose primary category is one of
the segment's, the rest (8–25 %, per user) is noise spread over the catalogue. Within a category
item popularity is Zipf-like (weight rank^-0.9), activity per user is log-normal (at least 5 rows),
timestamps cover 2025 with busier weekends, evenings and Nov–Dec, and some users join late or
leave early. Items are drawn with replacement, so heavy users buy popular items again (about 15 %
of the rows repeat a user-item pair at 10M). Ratings are higher on preferred categories. Item
titles are drawn from a word pool per category plus shared brand and adjective pools, so a text
encoder sees the topic. There is no user free text: age and country lean towards the segment but
do not decide it.

Everything is vectorised numpy / pyarrow: 10M interactions generate in about 6 s (under 1 GB peak) on
one core and are written as Parquet and CSV in about 12 s more.

Usage::

    python benchmarks/synth_log.py --interactions 10000000 --users 200000 --items 40000 --out DIR \
        [--seed 0] [--format parquet|csv|both]

writes ``interactions``, ``items``, ``users`` (``.parquet`` and/or ``.csv``), ``truth.parquet``
(user_id, segment) and ``segments.parquet`` (segment, categories). From code::

    from synth_log import generate, write
    tables = generate(1_000_000, 20_000, 5_000, seed=0)   # dict of DataFrames
    write(tables, "/tmp/shop", formats=("parquet",))
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: Product categories in groups of related ones; an item's second category is mostly from its group.
#: Per category: "modifiers;products" – title words that carry the topic.
CATEGORY_WORDS: dict[str, dict[str, str]] = {
    "electronics": {
        "smartphones": "5G,Dual-SIM,Foldable,Rugged,Flagship,Budget,OLED,Unlocked;Smartphone,Phone,Handset,Phone Case,"
        "Screen Protector,Charger,Power Bank,SIM Tray",
        "laptops": "Ultrabook,Gaming,14-inch,16-inch,Touchscreen,Convertible,Workstation,Chromebook;Laptop,Notebook,"
        "Docking Station,Laptop Stand,Laptop Sleeve,Cooling Pad,Keyboard,Trackpad",
        "audio": "Noise-Cancelling,Wireless,Hi-Fi,Bluetooth,Studio,Over-Ear,In-Ear,Bass-Boost;Headphones,Earbuds,"
        "Speaker,Soundbar,Amplifier,Turntable,Subwoofer,DAC",
        "cameras": "Mirrorless,Full-Frame,Action,Instant,Telephoto,Wide-Angle,4K,Vlogging;Camera,Lens,Tripod,Gimbal,"
        "Camera Bag,Flash,Memory Card,Lens Filter",
    },
    "home": {
        "kitchen": "Non-Stick,Cast-Iron,Stainless,Ceramic,Induction,Copper,Carbon-Steel,Enamelled;Frying Pan,"
        "Saucepan,Chef Knife,Cutting Board,Stockpot,Wok,Dutch Oven,Knife Block",
        "coffee & tea": "Espresso,Arabica,Cold-Brew,Pour-Over,Barista,Single-Origin,Matcha,Loose-Leaf;Coffee Grinder,"
        "Coffee Beans,Kettle,Dripper,Milk Frother,Teapot,Tea Infuser,Moka Pot",
        "furniture": "Oak,Walnut,Mid-Century,Scandinavian,Upholstered,Folding,Extendable,Rattan;Armchair,Sofa,"
        "Bookshelf,Coffee Table,Dining Chair,Sideboard,Bed Frame,Desk",
        "lighting": "LED,Dimmable,Smart,Edison,Pendant,Arc,Rechargeable,Warm-White;Floor Lamp,Desk Lamp,"
        "Ceiling Light,Light Bulb,String Lights,Wall Sconce,Night Light,Lamp Shade",
    },
    "garden": {
        "gardening": "Perennial,Heirloom,Raised-Bed,Organic,Drought-Tolerant,Seedling,Compost,Bonsai;Seed Kit,"
        "Planter,Watering Can,Pruning Shears,Trowel,Potting Soil,Greenhouse,Garden Hose",
        "tools": "Cordless,Brushless,18V,Heavy-Duty,Precision,Magnetic,Torque,Laser;Drill,Impact Driver,Screwdriver Set,"
        "Socket Set,Tool Box,Jigsaw,Sander,Spirit Level",
        "outdoor living": "Weatherproof,Teak,Solar,Gas,Charcoal,Patio,Hammock,Firepit;Barbecue Grill,Parasol,"
        "Garden Bench,Patio Heater,Deck Chair,Lanterns,Outdoor Rug,Smoker",
        "cleaning": "Cordless,Bagless,Robot,Steam,Microfibre,Eco,Pet-Hair,HEPA;Vacuum Cleaner,Mop,Steam Cleaner,"
        "Duster,Window Cleaner,Detergent,Scrub Brush,Laundry Basket",
    },
    "sports": {
        "running": "Trail,Marathon,Cushioned,Lightweight,Reflective,Breathable,Carbon-Plate,Sprint;Running Shoes,"
        "Running Vest,GPS Watch,Hydration Belt,Compression Socks,Running Shorts,Headlamp,Insoles",
        "cycling": "Carbon,Gravel,Road,Mountain,Aero,Tubeless,Clipless,E-Bike;Bike Helmet,Bike Lights,Saddle,"
        "Cycling Jersey,Bike Pump,Inner Tube,Bike Lock,Cycling Gloves",
        "fitness": "Adjustable,Resistance,Non-Slip,Foldable,Olympic,Kettlebell,HIIT,Core;Dumbbells,Yoga Mat,"
        "Resistance Bands,Pull-Up Bar,Exercise Bike,Foam Roller,Weight Bench,Jump Rope",
        "camping": "Ultralight,Waterproof,4-Season,Insulated,Down,Backpacking,Self-Inflating,Windproof;Tent,"
        "Sleeping Bag,Camping Stove,Trekking Poles,Backpack,Sleeping Mat,Water Filter,Camp Chair",
    },
    "beauty": {
        "skincare": "Hyaluronic,Retinol,Vitamin-C,SPF-50,Fragrance-Free,Hydrating,Exfoliating,Niacinamide;Serum,"
        "Moisturiser,Face Cleanser,Sunscreen,Eye Cream,Face Mask,Toner,Lip Balm",
        "makeup": "Matte,Long-Wear,Waterproof,Shimmer,Nude,Volumising,Cruelty-Free,Liquid;Lipstick,Mascara,"
        "Foundation,Eyeshadow Palette,Concealer,Blush,Eyeliner,Makeup Brushes",
        "haircare": "Sulphate-Free,Argan,Keratin,Curl-Defining,Anti-Frizz,Volumising,Ionic,Ceramic;Shampoo,"
        "Conditioner,Hair Dryer,Straightener,Curling Iron,Hair Oil,Hair Mask,Hairbrush",
        "fragrance": "Eau-de-Parfum,Woody,Floral,Citrus,Oud,Musk,Vanilla,Amber;Perfume,Cologne,Body Mist,"
        "Scented Candle,Reed Diffuser,Fragrance Set,Travel Atomiser,Aftershave",
    },
    "fashion": {
        "womens fashion": "Linen,Silk,Wrap,Pleated,High-Waisted,Oversized,Floral-Print,Cashmere;Dress,Blouse,Skirt,"
        "Cardigan,Trench Coat,Jumpsuit,Blazer,Scarf",
        "mens fashion": "Slim-Fit,Oxford,Merino,Denim,Chino,Flannel,Tailored,Quilted;Shirt,Jeans,Chinos,Jumper,"
        "Suit Jacket,Parka,Polo Shirt,Tie",
        "shoes": "Leather,Suede,Canvas,Chunky,Slip-On,Waterproof,Platform,Orthopaedic;Sneakers,Boots,Loafers,"
        "Sandals,Heels,Slippers,Brogues,Ankle Boots",
        "jewellery & watches": "Sterling-Silver,Gold-Plated,Automatic,Chronograph,Diamond,Pearl,Rose-Gold,Titanium;"
        "Necklace,Earrings,Bracelet,Ring,Wristwatch,Watch Strap,Pendant,Cufflinks",
    },
    "kids": {
        "toys": "Wooden,Magnetic,Remote-Control,Plush,Montessori,STEM,Musical,Light-Up;Building Blocks,Teddy Bear,"
        "Toy Car,Doll House,Train Set,Puzzle,Action Figure,Play Kitchen",
        "baby": "Organic-Cotton,Hypoallergenic,Convertible,Lightweight,Anti-Colic,Swaddle,Newborn,Breathable;Stroller,"
        "Car Seat,Baby Monitor,Bottle Set,Nappy Bag,Baby Carrier,Cot,High Chair",
        "board games": "Cooperative,Strategy,Family,Party,Deck-Building,Legacy,Two-Player,Trivia;Board Game,"
        "Card Game,Expansion,Dice Set,Game Mat,Miniatures,Puzzle Box,Chess Set",
        "school supplies": "Ergonomic,Refillable,A4,Spiral,Pastel,Glow,Zipped,Scientific;Backpack,Pencil Case,"
        "Calculator,Exercise Book,Colouring Pencils,Lunch Box,Ruler Set,Highlighters",
    },
    "media": {
        "sci-fi books": "Galactic,Starship,Cyberpunk,Dystopian,Interstellar,Android,Time-Travel,Martian;Novel,"
        "Trilogy,Anthology,Saga,Chronicles,Paperback,Box Set,Omnibus",
        "crime books": "Detective,Noir,Cold-Case,Forensic,Heist,Psychological,Whodunit,Courtroom;Thriller,Mystery,"
        "Crime Novel,Casebook,Paperback,Series,Box Set,Audiobook",
        "cookbooks": "Vegan,Sourdough,Italian,Japanese,Baking,One-Pot,Mediterranean,Barbecue;Cookbook,Recipe Book,"
        "Kitchen Bible,Baking Book,Meal Planner,Cooking Guide,Recipe Cards,Food Atlas",
        "vinyl & music": "Jazz,Classic-Rock,Indie,Soul,Electronic,Orchestral,Hip-Hop,Folk;Vinyl LP,CD Album,Box Set,"
        "Live Album,Greatest Hits,Soundtrack,EP,Remaster",
    },
    "hobbies": {
        "art supplies": "Watercolour,Acrylic,Oil,Charcoal,Gouache,Pastel,Calligraphy,Sketching;Paint Set,"
        "Brush Set,Canvas,Sketchbook,Easel,Palette,Ink Set,Drawing Pencils",
        "musical instruments": "Acoustic,Electric,Digital,Semi-Hollow,Weighted,Nylon-String,Beginner,Concert;"
        "Guitar,Keyboard,Ukulele,Violin,Drum Kit,Amp,Microphone,Guitar Strings",
        "crafts": "Knitting,Crochet,Embroidery,Quilting,Macrame,Pottery,Resin,Beading;Yarn,Needle Set,Craft Kit,"
        "Fabric Bundle,Sewing Machine,Hoop,Clay,Pattern Book",
        "photography prints": "Panoramic,Black-and-White,Botanical,Vintage,Framed,Abstract,Coastal,City;Poster,"
        "Art Print,Photo Frame,Wall Art,Photo Album,Calendar,Canvas Print,Postcard Set",
    },
    "everyday": {
        "pet supplies": "Grain-Free,Orthopaedic,Interactive,Chew-Proof,Reflective,Self-Cleaning,Catnip,Puppy;Dog Bed,"
        "Cat Tree,Dog Lead,Pet Food,Litter Box,Chew Toy,Aquarium,Pet Carrier",
        "grocery": "Organic,Fair-Trade,Gluten-Free,Extra-Virgin,Wholegrain,Sugar-Free,Smoked,Artisan;Olive Oil,"
        "Pasta,Honey,Granola,Dark Chocolate,Spice Set,Hot Sauce,Nut Butter",
        "car accessories": "Dash,Magnetic,All-Weather,Wireless,Heated,Roof,Jump,Tyre;Dash Cam,Phone Mount,Floor Mats,"
        "Car Charger,Seat Cover,Roof Box,Jump Starter,Tyre Inflator",
        "stationery": "Fountain,Leather-Bound,Dotted,Recycled,Gel,Brass,Weekly,Washi;Notebook,Fountain Pen,Planner,"
        "Journal,Desk Organiser,Washi Tape,Envelope Set,Pen Set",
    },
}
CATEGORIES: tuple[str, ...] = tuple(c for group in CATEGORY_WORDS.values() for c in group)
GROUP_OF: np.ndarray = np.repeat(np.arange(len(CATEGORY_WORDS)), [len(g) for g in CATEGORY_WORDS.values()])
_WORDS = {c: [p.split(",") for p in w.split(";")] for group in CATEGORY_WORDS.values() for c, w in group.items()}

BRANDS = (
    "Nordvik", "Alder & Co", "Brightline", "Kestrel", "Maison Lune", "Oakhurst", "Pinnacle", "Quarry", "Redwood",
    "Solstice", "Tamarind", "Umbra", "Vantage", "Willow", "Zephyr", "Aurora", "Bramble", "Cobalt", "Driftwood",
    "Ember", "Fjord", "Granite", "Harbour", "Ivy Lane", "Juniper", "Kinetic", "Lumen", "Meridian", "Nimbus", "Orchard",
)  # fmt: skip
ADJECTIVES = (
    "Classic", "Premium", "Compact", "Eco", "Deluxe", "Essential", "Pro", "Mini", "Ultra", "Vintage", "Everyday",
    "Signature", "Portable", "Original", "Modern", "Elite", "Heritage", "Urban", "Nordic", "Studio", "Grand", "Pure",
)  # fmt: skip
SUFFIXES = ("", "", "", "", "", " Set", " Bundle", " Gift Edition", " XL", " 2-Pack", " Limited Edition", " V2")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "PL", "SE", "AT", "BE", "CH")
COUNTRY_SHARE = np.array([18, 14, 14, 13, 9, 8, 6, 5, 4, 3, 3, 3], dtype=np.float64)

START = np.datetime64("2025-01-01T00:00:00", "s")
DAYS = 365
#: Hour-of-day weights: quiet nights, lunch bump, evening peak.
HOUR_WEIGHT = np.array([3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 10, 9, 8, 8, 8, 9, 11, 14, 16, 15, 11, 6], dtype=float)
MIN_ACTIVITY = 5
#: Item popularity within a category: weight rank ** -ZIPF_EXPONENT.
ZIPF_EXPONENT = 0.9


def _day_weights() -> np.ndarray:
    """Weekends 30 % busier, November 30 % and December 70 % busier (a Black-Friday week on top)."""
    days = START.astype("datetime64[D]") + np.arange(DAYS)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    w = np.where(weekday >= 5, 1.3, 1.0)
    w *= np.select([month == 11, month == 12], [1.3, 1.7], 1.0)
    w[327:334] *= 1.8  # 24–30 November
    return w


def _segments(rng: np.random.Generator, n_segments: int) -> list[np.ndarray]:
    """Disjoint preferred-category sets, 2–4 each; categories no segment owns are left over as noise."""
    sizes = rng.integers(2, 5, size=n_segments)
    while sizes.sum() > len(CATEGORIES) - 4:  # keep a few unowned categories
        sizes[np.argmax(sizes)] -= 1
    order = rng.permutation(len(CATEGORIES))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [np.sort(order[bounds[k] : bounds[k + 1]]) for k in range(n_segments)]


def _items(rng: np.random.Generator, n_items: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Item table, each item's primary category, and the within-category popularity CDF (items by category)."""
    n_cat = len(CATEGORIES)
    size_w = rng.lognormal(0.0, 0.5, n_cat)
    sizes = np.maximum(1, np.floor(size_w / size_w.sum() * n_items)).astype(np.int64)
    sizes[np.argmax(sizes)] += n_items - sizes.sum()
    primary = np.repeat(np.arange(n_cat), sizes)  # items are numbered by category, then shuffled below
    # Zipf-like popularity within the category, ranks shuffled.
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n_items) - np.repeat(starts, sizes)
    rank = rank[np.argsort(primary * n_items + rng.permutation(n_items), kind="stable")] + 1
    weight = rank**-ZIPF_EXPONENT
    csum = np.cumsum(weight)
    before = np.concatenate([[0.0], csum[np.cumsum(sizes)[:-1] - 1]])
    total = csum[np.cumsum(sizes) - 1] - before
    # category c's items occupy (c, c + 1] of the CDF, so an item is found with one searchsorted
    cdf = primary + (csum - np.repeat(before, sizes)) / np.repeat(total, sizes)
    cdf[np.cumsum(sizes) - 1] = np.arange(1, n_cat + 1)  # exact ends, no rounding gap

    # Extra categories: 45 % one, 40 % two, 15 % three; mostly from the same group.
    n_extra = rng.choice(3, size=n_items, p=[0.45, 0.40, 0.15])
    cats = np.full((n_items, 3), -1, dtype=np.int64)
    cats[:, 0] = primary
    group_start = np.searchsorted(GROUP_OF, GROUP_OF[primary])
    group_size = np.bincount(GROUP_OF)[GROUP_OF[primary]]
    for k in (1, 2):
        same_group = rng.random(n_items) < 0.75
        pick = np.where(
            same_group, group_start + rng.integers(0, 1 << 30, n_items) % group_size, rng.integers(0, n_cat, n_items)
        )
        ok = (n_extra >= k) & ~(pick[:, None] == cats[:, :k]).any(axis=1)
        cats[ok, k] = pick[ok]
    names = np.array(CATEGORIES, dtype=object)
    labels = ["|".join(names[row[row >= 0]]) for row in cats]
    # rows stay in category order (the CDF's order); ids are shuffled so that they do not reveal the category
    width = len(str(n_items))
    ids = np.array([f"i{k:0{width}d}" for k in range(1, n_items + 1)], dtype=object)[rng.permutation(n_items)]
    table = pa.table(
        {
            "item_id": pa.array(ids, pa.string()),
            "title": pa.array(_titles(rng, primary), pa.string()),
            "categories": pa.array(labels, pa.string()),
        }
    )
    return table, primary, cdf


def _titles(rng: np.random.Generator, primary: np.ndarray) -> list[str]:
    """``Brand Adjective Modifier Product[ Suffix]``: about 300,000 combinations per category."""
    n = len(primary)
    brand = rng.integers(0, len(BRANDS), n)
    adj = rng.integers(0, len(ADJECTIVES), n)
    suffix = rng.integers(0, len(SUFFIXES), n)
    a, b = rng.integers(0, 1 << 30, n), rng.integers(0, 1 << 30, n)
    out = []
    for k, c in enumerate(primary.tolist()):
        mods, prods = _WORDS[CATEGORIES[c]]
        out.append(
            f"{BRANDS[brand[k]]} {ADJECTIVES[adj[k]]} {mods[a[k] % len(mods)]} {prods[b[k] % len(prods)]}"
            f"{SUFFIXES[suffix[k]]}"
        )
    return out


def _activity(rng: np.random.Generator, n_users: int, n_interactions: int) -> np.ndarray:
    """Interactions per user: log-normal (heavy tail), at least MIN_ACTIVITY, summing to ``n_interactions``."""
    floor = min(MIN_ACTIVITY, n_interactions // n_users)
    if floor < 1:
        raise ValueError(f"n_interactions={n_interactions} should be >= n_users={n_users}")
    w = rng.lognormal(0.0, 1.1, n_users)
    extra = n_interactions - floor * n_users
    counts = floor + np.floor(w / w.sum() * extra).astype(np.int64)
    short = n_interactions - int(counts.sum())
    counts[rng.choice(n_users, size=short, replace=False)] += 1
    return counts


def _timestamps(rng: np.random.Generator, user: np.ndarray, n_users: int) -> np.ndarray:
    """Seconds since 2025-01-01 for each row, sorted within each user; users may join late or leave early."""
    day_cdf = np.concatenate([[0.0], np.cumsum(_day_weights())])
    day_cdf /= day_cdf[-1]
    lo, hi = np.zeros(n_users), np.ones(n_users)
    joins, leaves = rng.random(n_users) < 0.2, rng.random(n_users) < 0.2
    lo[joins] = rng.uniform(0.0, 0.75, joins.sum())
    hi[leaves] = np.minimum(1.0, lo[leaves] + rng.uniform(0.15, 0.8, leaves.sum()))
    u = lo[user] + rng.random(len(user)) * (hi - lo)[user]
    day = np.searchsorted(day_cdf, u, side="right") - 1
    hour_cdf = np.cumsum(HOUR_WEIGHT) / HOUR_WEIGHT.sum()
    hour = np.searchsorted(hour_cdf, rng.random(len(user)), side="right")
    secs = day * 86_400 + hour * 3_600 + rng.integers(0, 3_600, len(user))
    # rows are grouped by user already: sorting (user, time) keys sorts time within each user
    key = np.sort((user.astype(np.int64) << 25) | secs)
    return key & ((1 << 25) - 1)


def generate_tables(n_interactions: int, n_users: int, n_items: int, seed: int = 0, n_segments: int = 10) -> dict:
    """Like :func:`generate`, as pyarrow Tables (what :func:`write` writes fastest)."""
    if n_items < len(CATEGORIES):
        raise ValueError(f"n_items={n_items} should be >= {len(CATEGORIES)} (one per category)")
    if not 2 <= n_segments <= len(CATEGORIES) // 3:
        raise ValueError(f"n_segments={n_segments} should be between 2 and {len(CATEGORIES) // 3}")
    ss = np.random.SeedSequence(seed)
    r_seg, r_items, r_users, r_rows, r_time, r_rate = (np.random.default_rng(s) for s in ss.spawn(6))
    segments = _segments(r_seg, n_segments)
    items, primary, cdf = _items(r_items, n_items)
    n_cat = len(CATEGORIES)

    # users: segment, preferred-category mix, noise rate, rating bias, demographics
    share = r_users.dirichlet(np.full(n_segments, 6.0))
    segment = r_users.choice(n_segments, size=n_users, p=share)
    pref = np.full((n_segments, 4), -1, dtype=np.int64)
    for k, cats in enumerate(segments):
        pref[k, : len(cats)] = cats
    mix = r_users.dirichlet(np.full(4, 2.0), size=n_users) * (pref[segment] >= 0)
    mix_cdf = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1).astype(np.float32)
    mix_cdf[:, -1] = 1.0
    noise_rate = r_users.uniform(0.08, 0.25, n_users).astype(np.float32)
    bias = r_users.normal(0.0, 0.35, n_users).astype(np.float32)
    seg_age = r_users.uniform(24, 58, n_segments)
    age = np.clip(np.rint(r_users.normal(seg_age[segment], 11.0)), 16, 85).astype(np.int64)
    tilt = COUNTRY_SHARE * r_users.lognormal(0.0, 0.6, (n_segments, len(COUNTRIES)))
    tilt_cdf = np.cumsum(tilt / tilt.sum(axis=1, keepdims=True), axis=1)
    country = (r_users.random(n_users)[:, None] > tilt_cdf[segment]).sum(axis=1).clip(0, len(COUNTRIES) - 1)

    # rows: which user, which category (segment's or noise), which item (Zipf within category)
    counts = _activity(r_users, n_users, n_interactions)
    user = np.repeat(np.arange(n_users, dtype=np.int32), counts)
    noise = r_rows.random(n_interactions, dtype=np.float32) < noise_rate[user]
    slot = (r_rows.random(n_interactions, dtype=np.float32)[:, None] > mix_cdf[user]).sum(axis=1)
    cat = pref[segment[user], np.minimum(slot, 3)]
    cat_share = np.cumsum(np.bincount(primary, minlength=n_cat)) / n_items
    cat[noise] = np.searchsorted(cat_share, r_rows.random(int(noise.sum())), side="right")
    del slot, noise
    item = np.searchsorted(cdf, cat + r_rows.random(n_interactions), side="left").astype(np.int32)
    item = np.minimum(item, n_items - 1)
    liked = (pref[segment[user]] == primary[item][:, None]).any(axis=1)
    del cat
    rating = 3.1 + 1.0 * liked + bias[user] + r_rate.normal(0.0, 0.9, n_interactions).astype(np.float32)
    rating = np.clip(np.rint(rating), 1, 5).astype(np.int8)
    del liked
    secs = _timestamps(r_time, user, n_users)

    width = len(str(n_users))
    user_ids = pa.array([f"u{k:0{width}d}" for k in range(1, n_users + 1)], pa.string())
    interactions = pa.table(
        {
            "user_id": user_ids.take(pa.array(user)),
            "item_id": items["item_id"].combine_chunks().take(pa.array(item)),
            "rating": pa.array(rating),
            "timestamp": pa.array(START + secs.astype("timedelta64[s]")),
        }
    )
    del user, item, rating, secs
    users = pa.table(
        {
            "user_id": user_ids,
            "age": pa.array(age),
            "country": pa.array(np.array(COUNTRIES, dtype=object)[country], pa.string()),
        }
    )
    names = np.array(CATEGORIES, dtype=object)
    return {
        "interactions": interactions,
        "items": items.sort_by("item_id"),
        "users": users,
        "truth": pa.table({"user_id": user_ids, "segment": pa.array(segment.astype(np.int64))}),
        "segments": pa.table(
            {
                "segment": pa.array(np.arange(n_segments)),
                "share": pa.array(share),
                "categories": pa.array(["|".join(names[s]) for s in segments], pa.string()),
            }
        ),
    }


def generate(n_interactions: int, n_users: int, n_items: int, seed: int = 0, n_segments: int = 10) -> dict:
    """Synthetic shop log with planted segments.

    Parameters
    ----------
    n_interactions, n_users, n_items : int
        Table sizes; every user gets at least ``min(5, n_interactions // n_users)`` interactions.
    seed : int
        Same seed, same tables.
    n_segments : int
        Planted segments (2–13), each preferring 2–4 of the 40 categories.

    Returns
    -------
    dict of pandas.DataFrame
        ``interactions`` (user_id, item_id, rating 1–5, timestamp; sorted by user, time),
        ``items`` (item_id, title, categories ``|``-joined, primary first), ``users``
        (user_id, age, country), ``truth`` (user_id, segment) and ``segments``
        (segment, share, categories).

    Examples
    --------
    >>> tables = generate(20_000, 1_000, 500, seed=1)
    >>> tables["interactions"].groupby("user_id").size().min()
    5
    """
    return {
        name: t.to_pandas() for name, t in generate_tables(n_interactions, n_users, n_items, seed, n_segments).items()
    }


def write(tables: dict, out: str | Path, formats: tuple[str, ...] = ("parquet",)) -> list[Path]:
    """Write tables from :func:`generate` (DataFrames) or :func:`generate_tables` into ``out``.

    ``interactions``, ``items`` and ``users`` go out in each of ``formats`` ("parquet", "csv");
    ``truth`` and ``segments`` always as Parquet. CSV timestamps are ISO 8601 (``2025-03-04T18:22:10``).
    Returns the paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(formats) - {"parquet", "csv"}
    if unknown:
        raise ValueError(f"formats={sorted(unknown)} should be 'parquet' and/or 'csv'")
    arrow = {
        k: t if isinstance(t, pa.Table) else pa.Table.from_pandas(t, preserve_index=False) for k, t in tables.items()
    }
    written = []
    for name, table in arrow.items():
        data_table = name in ("interactions", "items", "users")
        if "parquet" in formats or not data_table:
            path = out / f"{name}.parquet"
            pq.write_table(table, path, compression="zstd")
            written.append(path)
        if "csv" in formats and data_table:
            path = out / f"{name}.csv"
            if "timestamp" in table.column_names:
                iso = pc.strftime(table["timestamp"], format="%Y-%m-%dT%H:%M:%S")
                table = table.set_column(table.column_names.index("timestamp"), "timestamp", iso)
            if name == "interactions":
                # ids, numbers and ISO times never need quotes: the fast writer, header written by hand
                # (pyarrow would quote it)
                with open(path, "wb") as fh:
                    fh.write((",".join(table.column_names) + "\n").encode())
                    pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
            else:
                table.to_pandas().to_csv(path, index=False)  # titles may hold commas: quoted where needed
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interactions", type=int, default=10_000_000)
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--items", type=int, default=40_000)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=("parquet", "csv", "both"), default="parquet")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    tables = generate_tables(args.interactions, args.users, args.items, args.seed, args.segments)
    t_gen = time.perf_counter() - t0
    formats = ("parquet", "csv") if args.format == "both" else (args.format,)
    paths = write(tables, args.out, formats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "generate_s": round(t_gen, 1),
                "total_s": round(time.perf_counter() - t0, 1),
                "peak_rss_mb": round(peak_mb),
                "files": [str(p) for p in paths],
            }
        )
    )


if __name__ == "__main__":
    main()
