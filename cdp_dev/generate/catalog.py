"""Static vocabulary of the simulated world: countries, names, phones, products, pages.

Everything here is constant (no seed): the same catalogue for every run keeps the
output a pure function of the options, and keeps the per-event work in the simulator
down to picking from precomputed tuples.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass

# --------------------------------------------------------------------------- helpers


def slug(text: str) -> str:
    """ASCII lower-case letters and digits only: how names become email local parts."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return "".join(ch for ch in ascii_text if ch.isalnum())


def compact_json(value: object) -> str:
    """The one JSON text style used everywhere (compact, UTF-8 kept), so fragments concatenate."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- phones


@dataclass(frozen=True, slots=True)
class Phone:
    """A valid phone number kept in parts so every written form is cheap to render."""

    cc: str
    groups: tuple[str, ...]
    national: str
    region: str  # ISO country whose trunk prefix the national form uses

    @property
    def e164(self) -> str:
        return "+" + self.cc + "".join(self.groups)

    def render(self, form: str) -> str:
        """`e164`, `intl` (+44 20 7946 0958), `00` (0044 20 7946 0958) or `national`."""
        if form == "e164":
            return self.e164
        if form == "intl":
            return "+" + self.cc + " " + " ".join(self.groups)
        if form == "00":
            return "00" + self.cc + " " + " ".join(self.groups)
        return self.national


def _scramble(u: int, modulus: int) -> int:
    """A bijection on [0, modulus) so consecutive people do not get consecutive numbers."""
    return (u * 7_919 + 1_234_567) % modulus


def _nanp_exchanges() -> tuple[int, ...]:
    """NXX codes that libphonenumber accepts: no N11, no 555, no 950/958/959/976."""
    bad = {555, 950, 958, 959, 976}
    return tuple(x for x in range(201, 1000) if x % 100 != 11 and x not in bad)


_NANP_EXCHANGES = _nanp_exchanges()


def _nanp(u: int, areas: tuple[int, ...], region: str) -> Phone:
    area = areas[u % len(areas)]
    rest = u // len(areas)
    exchange = _NANP_EXCHANGES[rest % len(_NANP_EXCHANGES)]
    line = _scramble(rest // len(_NANP_EXCHANGES), 10_000)
    groups = (str(area), str(exchange), f"{line:04d}")
    return Phone("1", groups, f"({area}) {exchange}-{line:04d}", region)


def _gb_mobile(u: int) -> Phone:
    # 7700 900xxx is Ofcom's drama range (not valid): the third digit is never 0.
    x = _scramble(u, 270_000_000)
    prefix = ("74", "75", "78")[x % 3]
    digits = f"{prefix}{1 + (x // 3) % 9}{x // 27:07d}"
    return Phone("44", (digits[:4], digits[4:]), f"0{digits[:4]} {digits[4:]}", "GB")


def _gb_london(u: int) -> Phone:
    x = _scramble(u, 20_000_000)
    digits = f"{(7, 3)[x % 2]}{x // 2:07d}"
    return Phone("44", ("20", digits[:4], digits[4:]), f"020 {digits[:4]} {digits[4:]}", "GB")


_DE_MOBILE = ("151", "152", "157", "160", "162", "170", "171", "172", "173", "175", "176", "177")


def _de_mobile(u: int) -> Phone:
    x = _scramble(u, 1_200_000_000)
    prefix = _DE_MOBILE[x % len(_DE_MOBILE)]
    sub = f"{x // len(_DE_MOBILE):08d}"
    return Phone("49", (prefix, sub), f"0{prefix} {sub}", "DE")


def _de_berlin(u: int) -> Phone:
    x = _scramble(u, 80_000_000)
    sub = f"{2 + x % 8}{x // 8:07d}"
    return Phone("49", ("30", sub), f"030 {sub}", "DE")


def _fr(u: int, lead: str) -> Phone:
    x = _scramble(u, 80_000_000)
    digits = lead + "01245678"[x % 8] + f"{x // 8:07d}"
    pairs = tuple(digits[i : i + 2] for i in range(1, 9, 2))
    return Phone("33", (digits[0], *pairs), "0" + digits[0] + " " + " ".join(pairs), "FR")


def _au(u: int, leads: tuple[str, ...]) -> Phone:
    # Only blocks libphonenumber fully accepts (some 044x/047x blocks are unallocated).
    x = _scramble(u, 10_000_000 * len(leads))
    digits = leads[x % len(leads)] + f"{x // len(leads):07d}"
    if digits[0] == "4":
        groups = (digits[:3], digits[3:6], digits[6:])
        return Phone("61", groups, f"0{digits[:3]} {digits[3:6]} {digits[6:]}", "AU")
    groups = (digits[0], digits[1:5], digits[5:])
    return Phone("61", groups, f"(0{digits[0]}) {digits[1:5]} {digits[5:]}", "AU")


def _jp_mobile(u: int) -> Phone:
    x = _scramble(u, 270_000_000)
    lead = ("90", "80", "70")[x % 3]
    sub = f"{1 + (x // 3) % 9}{(x // 27):07d}"
    return Phone("81", (lead, sub[:4], sub[4:]), f"0{lead}-{sub[:4]}-{sub[4:]}", "JP")


def _jp_tokyo(u: int) -> Phone:
    x = _scramble(u, 90_000_000)
    sub = f"{1 + x % 9}{x // 9:07d}"
    return Phone("81", ("3", sub[:4], sub[4:]), f"03-{sub[:4]}-{sub[4:]}", "JP")


# --------------------------------------------------------------------------- countries


@dataclass(frozen=True)
class Country:
    """Everything that varies by the person's country."""

    code: str
    currency: str
    weight: float
    locale: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[tuple[str, tuple[str, ...]], ...]
    email_domains: tuple[str, ...]
    company_tld: str
    company_suffix: str
    tax_rate: float

    def personal_phone(self, u: int) -> Phone:
        """A person's own mobile: unique per u (the person's global index)."""
        return _PERSONAL_PHONE[self.code](u)

    def work_phone(self, u: int) -> Phone:
        """A company line (direct dial or switchboard), from a range disjoint from mobiles."""
        return _WORK_PHONE[self.code](u)


_US_AREAS = (212, 415, 312, 617, 206, 512, 303, 404, 305, 702, 713, 503)
_US_WORK_AREAS = (646, 628, 872, 857, 564, 737, 720, 470, 786, 725, 346, 971)
_CA_AREAS = (416, 604, 514, 403, 613, 780)
_CA_WORK_AREAS = (647, 778, 438, 587, 343, 825)

_PERSONAL_PHONE = {
    "US": lambda u: _nanp(u, _US_AREAS, "US"),
    "CA": lambda u: _nanp(u, _CA_AREAS, "CA"),
    "GB": _gb_mobile,
    "DE": _de_mobile,
    "FR": lambda u: _fr(u, "6"),
    "AU": lambda u: _au(u, ("40", "41", "42", "43", "46")),
    "JP": _jp_mobile,
}
_WORK_PHONE = {
    "US": lambda u: _nanp(u, _US_WORK_AREAS, "US"),
    "CA": lambda u: _nanp(u, _CA_WORK_AREAS, "CA"),
    "GB": _gb_london,
    "DE": _de_berlin,
    "FR": lambda u: _fr(u, "1"),
    "AU": lambda u: _au(u, ("28", "29")),
    "JP": _jp_tokyo,
}


def _words(text: str) -> tuple[str, ...]:
    """Vocabulary written as one string per line (`|` separates multi-word entries)."""
    return tuple(w.strip() for w in text.split("|")) if "|" in text else tuple(text.split())


def _cities(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`City: code code; City: code` -> ((city, (codes...)), ...)."""
    out = []
    for item in text.split(";"):
        city, _, codes = item.partition(":")
        out.append((city.strip(), tuple(c.strip() for c in codes.split(","))))
    return tuple(out)


COUNTRIES: tuple[Country, ...] = (
    Country(
        code="US",
        currency="USD",
        weight=0.40,
        locale="en-US",
        first_names=_words(
            "James Mary Michael Patricia Robert Jennifer David Linda William Elizabeth José "
            "Maria Daniel Sarah Kevin Ashley Wei Priya Jamal Emily"
        ),
        last_names=_words(
            "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Nguyen "
            "Patel Kim O'Brien Anderson Lee"
        ),
        cities=_cities(
            "New York: 10001, 10011, 10128; San Francisco: 94103, 94110; "
            "Boston: 02108, 02116, 02134; Chicago: 60601, 60614; Austin: 78701, 78704; "
            "Seattle: 98101, 98109; Newark: 07102, 07104"
        ),
        email_domains=_words("gmail.com yahoo.com outlook.com icloud.com hotmail.com aol.com"),
        company_tld=".com",
        company_suffix=" Inc.",
        tax_rate=0.08,
    ),
    Country(
        code="GB",
        currency="GBP",
        weight=0.15,
        locale="en-GB",
        first_names=_words(
            "Oliver Amelia George Isla Harry Ava Jack Emily Noah Sophie Arjun Grace"
        ),
        last_names=_words(
            "Smith Jones Taylor Brown Williams Wilson Evans Thomas Roberts Khan Walker Wright"
        ),
        cities=_cities(
            "London: SW1A 1AA, E1 6AN, N1 9GU; Manchester: M1 1AE, M4 5JD; "
            "Edinburgh: EH1 1YZ; Bristol: BS1 4DJ"
        ),
        email_domains=_words("gmail.com hotmail.co.uk outlook.com btinternet.com yahoo.co.uk"),
        company_tld=".co.uk",
        company_suffix=" Ltd",
        tax_rate=0.20,
    ),
    Country(
        code="DE",
        currency="EUR",
        weight=0.12,
        locale="de-DE",
        first_names=_words(
            "Lukas Anna Leon Lea Felix Sophie Jonas Marie Jürgen Lena Maximilian Hannah"
        ),
        last_names=_words(
            "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schäfer Hoffmann "
            "Koch Öztürk"
        ),
        cities=_cities(
            "Berlin: 10115, 10999, 12043; München: 80331, 80802; Hamburg: 20095, 22767; "
            "Köln: 50667; Dresden: 01067, 01307"
        ),
        email_domains=_words("gmail.com gmx.de web.de t-online.de outlook.de"),
        company_tld=".de",
        company_suffix=" GmbH",
        tax_rate=0.19,
    ),
    Country(
        code="FR",
        currency="EUR",
        weight=0.08,
        locale="fr-FR",
        first_names=_words("Lucas Léa Hugo Chloé Louis Manon Jules Camille Inès Gabriel"),
        last_names=_words(
            "Martin Bernard Dubois Thomas Robert Richard Petit Durand Lefèvre Moreau"
        ),
        cities=_cities(
            "Paris: 75001, 75011, 75015; Lyon: 69001, 69003; Marseille: 13001; Nice: 06000, 06300"
        ),
        email_domains=_words("gmail.com orange.fr free.fr laposte.net hotmail.fr"),
        company_tld=".fr",
        company_suffix=" SAS",
        tax_rate=0.20,
    ),
    Country(
        code="CA",
        currency="CAD",
        weight=0.10,
        locale="en-CA",
        first_names=_words("Liam Olivia Noah Emma Étienne Chloé Lucas Charlotte Benjamin Amélie"),
        last_names=_words("Tremblay Gagnon Roy Côté Smith Brown Wilson Martin Bouchard Singh"),
        cities=_cities(
            "Toronto: M5V 2T6, M4C 1B5; Vancouver: V6B 1A1; Montréal: H2X 1Y4, H3B 2Y5; "
            "Calgary: T2P 1J9"
        ),
        email_domains=_words("gmail.com outlook.com yahoo.ca videotron.ca shaw.ca"),
        company_tld=".ca",
        company_suffix=" Inc.",
        tax_rate=0.13,
    ),
    Country(
        code="AU",
        currency="AUD",
        weight=0.12,
        locale="en-AU",
        first_names=_words("Jack Charlotte William Mia Thomas Olivia Lachlan Isla Cooper Ruby"),
        last_names=_words("Smith Jones Williams Brown Wilson Taylor Nguyen Kelly Ryan Walsh"),
        cities=_cities(
            "Sydney: 2000, 2010; Melbourne: 3000, 3141; Brisbane: 4000; Darwin: 0800, 0810"
        ),
        email_domains=_words("gmail.com bigpond.com outlook.com icloud.com optusnet.com.au"),
        company_tld=".com.au",
        company_suffix=" Pty Ltd",
        tax_rate=0.10,
    ),
    Country(
        code="JP",
        currency="JPY",
        weight=0.03,
        locale="ja-JP",
        first_names=_words("Haruto Yui Sota Hina Riku Aoi Yuto Sakura"),
        last_names=_words("Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura"),
        cities=_cities("Tokyo: 100-0001, 150-0002, 160-0022; Osaka: 530-0001"),
        email_domains=_words("gmail.com yahoo.co.jp docomo.ne.jp icloud.com"),
        company_tld=".co.jp",
        company_suffix=" K.K.",
        tax_rate=0.10,
    ),
)

COUNTRY_WEIGHTS: tuple[float, ...] = tuple(c.weight for c in COUNTRIES)

# --------------------------------------------------------------------------- money

# Rates of the non-USD currencies in fx_rates; USD is the reporting currency (rate 1).
FX_BASE_RATE: dict[str, float] = {
    "EUR": 1.0852,
    "GBP": 1.2694,
    "CAD": 0.7351,
    "AUD": 0.6547,
    "JPY": 0.006683,
}
# Decimal places of each currency (ISO 4217 minor units).
CURRENCY_DECIMALS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "JPY": 0}
SHIPPING_FEE: dict[str, int] = {
    "USD": 595,
    "EUR": 495,
    "GBP": 399,
    "CAD": 795,
    "AUD": 995,
    "JPY": 800,
}
FREE_SHIPPING_FROM: dict[str, int] = {
    "USD": 7_500,
    "EUR": 7_000,
    "GBP": 6_000,
    "CAD": 9_900,
    "AUD": 9_900,
    "JPY": 10_000,
}


def format_money(minor: int, currency: str) -> str:
    """Minor units to the decimal text of the currency (JPY has no decimals)."""
    if CURRENCY_DECIMALS.get(currency, 2) == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


# --------------------------------------------------------------------------- products


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    sku: str
    name: str
    category: str
    slug: str
    usd_cents: int


_CATEGORIES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[int, int]], ...] = (
    (
        "Apparel",
        "APP",
        ("Merino", "Organic", "Linen", "Classic", "Relaxed"),
        ("Crew Sweater", "Oxford Shirt", "Chino Pants"),
        (2900, 14900),
    ),
    (
        "Footwear",
        "FTW",
        ("Trail", "Everyday", "Court", "Leather", "Canvas"),
        ("Runner", "Sneaker", "Boot"),
        (5900, 21900),
    ),
    (
        "Accessories",
        "ACC",
        ("Waxed", "Minimal", "Woven", "Travel", "Vintage"),
        ("Tote Bag", "Wallet", "Cap"),
        (1500, 8900),
    ),
    (
        "Home",
        "HOM",
        ("Stoneware", "Oak", "Linen", "Glass", "Ceramic"),
        ("Mug Set", "Serving Board", "Throw Blanket"),
        (1900, 12900),
    ),
    (
        "Electronics",
        "ELC",
        ("Wireless", "Compact", "Noise-Cancelling", "Smart", "Portable"),
        ("Headphones", "Speaker", "Charger"),
        (2900, 34900),
    ),
    (
        "Beauty",
        "BTY",
        ("Hydrating", "Daily", "Mineral", "Botanical", "Overnight"),
        ("Face Serum", "Sunscreen", "Lip Balm"),
        (900, 6900),
    ),
    (
        "Outdoor",
        "OUT",
        ("Ultralight", "Packable", "Insulated", "Waterproof", "Summit"),
        ("Jacket", "Backpack", "Tent"),
        (4900, 39900),
    ),
    (
        "Books",
        "BKS",
        ("Illustrated", "Pocket", "Collected", "Annotated", "Field"),
        ("Cookbook", "Travel Guide", "Journal"),
        (1200, 4900),
    ),
)


def _build_products() -> tuple[Product, ...]:
    products: list[Product] = []
    for cat_index, (category, code, adjectives, nouns, (low, high)) in enumerate(_CATEGORIES):
        for a_index, adjective in enumerate(adjectives):
            for n_index, noun in enumerate(nouns):
                number = len(products) + 1
                step = (a_index * len(nouns) + n_index) * 7 + cat_index * 3
                cents = low + (step * 1_013) % (high - low)
                cents = cents - cents % 100 + 99 if cents % 100 != 99 else cents
                name = f"{adjective} {noun}"
                products.append(
                    Product(
                        product_id=f"P{number:05d}",
                        sku=f"{code}-{number:04d}",
                        name=name,
                        category=category,
                        slug=slug(name.replace(" ", "-")) + f"-{number}",
                        usd_cents=cents,
                    )
                )
    return tuple(products)


PRODUCTS: tuple[Product, ...] = _build_products()
CATEGORIES: tuple[str, ...] = tuple(c[0] for c in _CATEGORIES)


def local_price(product: Product, currency: str) -> int:
    """List price in the currency's minor units, rounded like a shop would (.99 / 10 yen)."""
    if currency == "USD":
        return product.usd_cents
    usd = product.usd_cents / 100 / FX_BASE_RATE[currency]
    if CURRENCY_DECIMALS[currency] == 0:
        return int(round(usd / 10) * 10)
    return int(usd) * 100 + 99


LOCAL_PRICES: dict[str, tuple[int, ...]] = {
    cur: tuple(local_price(p, cur) for p in PRODUCTS) for cur in CURRENCY_DECIMALS
}

SEARCH_QUERIES: tuple[str, ...] = (
    "sweater",
    "running shoes",
    "gift for dad",
    "headphones",
    "linen",
    "tote",
    "serum",
    "rain jacket",
    "mug",
    "sale",
    "backpack",
    "cookbook",
    "wireless charger",
    "boots",
)

# --------------------------------------------------------------------------- web & app

SITE = "https://shop.northwind-goods.com"

# (path, title, weight as a landing page)
STATIC_PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Northwind Goods: everyday things, made well"),
    ("/pricing", "Membership & Pricing | Northwind Goods"),
    ("/about", "About us | Northwind Goods"),
    ("/blog", "Journal | Northwind Goods"),
    ("/blog/how-we-source-merino", "How we source merino | Northwind Goods"),
    ("/blog/packing-list-weekend-hike", "A weekend hike packing list | Northwind Goods"),
    ("/help/shipping", "Shipping & returns | Northwind Goods"),
    ("/login", "Sign in | Northwind Goods"),
    ("/account/register", "Create account | Northwind Goods"),
    ("/cart", "Your cart | Northwind Goods"),
    ("/checkout", "Checkout | Northwind Goods"),
    ("/newsletter", "Newsletter | Northwind Goods"),
)

REFERRERS: tuple[str, ...] = (
    "https://www.google.com/",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://www.facebook.com/",
    "https://t.co/",
    "https://www.instagram.com/",
    "https://www.pinterest.com/",
    "",
)

# (utm source, medium, campaign name)
CAMPAIGNS: tuple[tuple[str, str, str], ...] = (
    ("google", "cpc", "spring_sale"),
    ("google", "cpc", "brand_search"),
    ("facebook", "paid_social", "retargeting_q3"),
    ("instagram", "social", "influencer_drop"),
    ("newsletter", "email", "weekly_digest"),
    ("bing", "cpc", "brand"),
    ("linkedin", "paid_social", "b2b_webinar"),
    ("tiktok", "paid_social", "summer_collection"),
)

DESKTOP_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
)
MOBILE_AGENTS: tuple[str, ...] = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Mobile Safari/537.36",
)
# (model, manufacturer, os version)
IOS_MODELS: tuple[tuple[str, str, str], ...] = (
    ("iPhone15,2", "Apple", "17.6.1"),
    ("iPhone14,5", "Apple", "17.5"),
    ("iPhone16,1", "Apple", "18.0"),
    ("iPhone13,2", "Apple", "16.7.10"),
)
ANDROID_MODELS: tuple[tuple[str, str, str], ...] = (
    ("Pixel 8", "Google", "14"),
    ("SM-S911B", "samsung", "14"),
    ("SM-A546B", "samsung", "13"),
    ("moto g84 5G", "motorola", "14"),
)
TABLET_MODEL: tuple[str, str, str] = ("iPad13,18", "Apple", "17.6.1")
APP_VERSIONS: tuple[tuple[str, str], ...] = (
    ("4.12.0", "412"),
    ("4.13.1", "431"),
    ("4.14.0", "440"),
)

# --------------------------------------------------------------------------- email

EMAIL_CAMPAIGNS: tuple[tuple[str, str], ...] = (
    ("Weekly digest", "This week at Northwind: new arrivals"),
    ("Spring sale", "Up to 30% off, this weekend only"),
    ("Back in stock", "It's back: your favourites restocked"),
    ("Member perks", "Your membership perks, explained"),
    ("Journal", "How we source merino (and why it matters)"),
    ("Last chance", "Last chance: free shipping ends tonight"),
)
EMAIL_PROVIDER_CONTEXT = compact_json(
    {"library": {"name": "iterable-webhooks", "version": "2.3.0"}}
)

# --------------------------------------------------------------------------- CRM

COMPANY_WORDS_1: tuple[str, ...] = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Massive",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Nakatomi",
    "Monarch",
    "Pied Piper",
    "Dunder",
    "Blue Sun",
    "Virtucon",
    "Prestige",
    "Sterling",
    "Bluth",
    "Krusty",
    "Nordic",
    "Summit",
    "Harbor",
    "Granite",
)
COMPANY_WORDS_2: tuple[str, ...] = (
    "Industries",
    "Labs",
    "Systems",
    "Logistics",
    "Analytics",
    "Foods",
    "Health",
    "Media",
    "Capital",
    "Robotics",
    "Energy",
    "Retail",
    "Software",
    "Consulting",
    "Outfitters",
    "Hospitality",
    "Networks",
    "Biotech",
    "Studios",
    "Partners",
    "Dynamics",
    "Works",
    "Holdings",
    "Trading",
    "Solutions",
    "Group",
    "Ventures",
    "Supply",
    "Design",
    "Mobility",
)
INDUSTRIES: tuple[str, ...] = (
    "Retail",
    "Software",
    "Manufacturing",
    "Healthcare",
    "Financial Services",
    "Hospitality",
    "Logistics",
    "Media",
    "Education",
    "Energy",
    "Consumer Goods",
    "Professional Services",
)
JOB_TITLES: tuple[str, ...] = (
    "Marketing Manager",
    "Head of E-commerce",
    "CMO",
    "Procurement Lead",
    "Office Manager",
    "VP Sales",
    "Data Analyst",
    "Operations Director",
    "CEO",
    "HR Business Partner",
    "Buyer",
    "Facilities Coordinator",
    "CTO",
    "Account Executive",
)
LIFECYCLE_STAGES: tuple[str, ...] = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
LEAD_SOURCES: tuple[str, ...] = (
    "website",
    "webinar",
    "trade_show",
    "referral",
    "outbound",
    "partner",
    "newsletter",
    "paid_search",
)
DEAL_STAGES: tuple[str, ...] = ("prospecting", "qualification", "proposal", "negotiation")
DEAL_PRODUCTS: tuple[str, ...] = (
    "Corporate gifting",
    "Team uniforms",
    "Office refresh",
    "Event merchandise",
    "Annual supply",
)
TICKET_CHANNELS: tuple[str, ...] = ("email", "phone", "chat", "web")
TICKET_SUBJECTS: tuple[str, ...] = (
    "Where is my order?",
    "Invoice copy needed",
    "Damaged item on arrival",
    "Change delivery address",
    "Bulk order discount",
    "Return request",
    "Wrong size delivered",
    "Cannot log in",
)
TICKET_PRIORITIES: tuple[str, ...] = ("low", "normal", "normal", "high", "urgent")

# --------------------------------------------------------------------------- dirt

# What people type when a form insists on an email or a phone they do not want to give.
PLACEHOLDER_EMAILS: tuple[str, ...] = ("test@test.com", "n/a", "none", "unknown")
PLACEHOLDER_PHONES: tuple[str, ...] = ("0000000000", "n/a", "none", "unknown")
TEST_EMAIL_VARIANTS: tuple[str, ...] = ("test@test.com", " TEST@test.com", "Test@Test.com ")
UNDEFINED_ANONYMOUS_ID = "undefined"
