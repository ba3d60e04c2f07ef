#!/usr/bin/env python3
"""Deterministic generator for Écoute's bundled sample data (standard library only).

Writes, next to this script:
  * mentions.jsonl     - fictional mentions of the fictional French operator "Lumio"
                         (Lumio Box, Lumio Fibre, Lumio Mobile, the Lumio app; support
                         handle @LumioCare) and of its fictional competitors
                         Zéphyr Télécom and Arcadia Mobile.
  * crm_customers.csv  - 60 fictional CRM contacts; about 45 mentions are written by them,
                         linked by the handle stored in the mastodon / bluesky / reddit column.

Everything is invented: people, companies, handles, texts. URLs and e-mails use reserved
.example / .test domains; phone numbers use ranges set aside for fiction
(+33 6 39 98 xx xx and +33 1 99 00 xx xx in France, +44 7700 900xxx in the UK).

Regenerate with:   python samples/generate.py
Same seed (random.Random(2026)), same bytes.

Deliberate CRM data-quality problems, kept on purpose so validation / dedupe features have
something to find:
  1. DUPLICATE E-MAIL  C-1024 (Nicolas Garnier) and C-1049 (Élodie Garnier) share the
                       household address "famille.garnier@courriel.example".
  2. INVALID E-MAIL    C-1031 (Marc Dupont) has "marc.dupont@" (no domain).
  3. NO OWNER          C-1056 has an empty owner_name and owner_email.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import re
import unicodedata
from collections import Counter, defaultdict

RNG = random.Random(2026)

HERE = os.path.dirname(os.path.abspath(__file__))
MENTIONS_PATH = os.path.join(HERE, "mentions.jsonl")
CUSTOMERS_PATH = os.path.join(HERE, "crm_customers.csv")

UTC = dt.timezone.utc
WINDOW_END = dt.datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
WINDOW_START = dt.datetime(2026, 10, 22, 0, 0, 0, tzinfo=UTC)  # 30 days ending WINDOW_END
SPIKE_START = dt.datetime(2026, 11, 12, 8, 0, tzinfo=UTC)
SPIKE_END = dt.datetime(2026, 11, 12, 14, 0, tzinfo=UTC)
OUTAGE_BEGAN = dt.datetime(2026, 11, 12, 8, 5, tzinfo=UTC)  # 9h05 in France

# Special CRM rows (0-based positions in the customer list -> C-1001 + position).
DUP_EMAIL_POSITIONS = (23, 48)  # C-1024, C-1049
INVALID_EMAIL_POSITION = 30     # C-1031
NO_OWNER_POSITION = 55          # C-1056

CSV_COLUMNS = [
    "customer_id", "first_name", "last_name", "company", "email", "phone",
    "mastodon", "bluesky", "reddit", "segment", "account_value",
    "owner_name", "owner_email", "language",
]
MENTION_KEYS = [
    "native_id", "platform", "url", "author", "title", "text", "language_hint",
    "created_at", "thread", "engagement", "expected",
]
BRAND_WORDS = ("lumio", "zéphyr", "zephyr", "arcadia")


# --------------------------------------------------------------------------- helpers

def pick(seq):
    return RNG.choice(seq)


USAGE: Counter = Counter()


def pick_balanced(seq):
    """Random pick among the least-used items of seq, so templates are spread evenly."""
    counts = [USAGE[(id(seq), i)] for i in range(len(seq))]
    low = min(counts)
    i = pick([i for i, c in enumerate(counts) if c == low])
    USAGE[(id(seq), i)] += 1
    return seq[i]


def chance(p: float) -> bool:
    return RNG.random() < p


def ascii_fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def slugify(s: str, maxlen: int = 60) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", ascii_fold(s).lower()).strip("-")
    return s[:maxlen].rstrip("-")


def name_token(s: str) -> str:
    return re.sub(r"[^a-z]", "", ascii_fold(s).lower())


def cap(s: str) -> str:
    return s[0].upper() + s[1:] if s and s[0].isalpha() else s


def iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def join_parts(opener: str, core: str, extras=(), closer: str = "") -> str:
    """Opener + core (+ extra sentences) + closer, with sentence-aware capitalisation."""
    if opener and opener[-1] not in ".!?…":
        text = f"{opener} {core}"
    elif opener:
        text = f"{opener} {cap(core)}"
    else:
        text = cap(core)
    for extra in extras:
        text += " " + cap(extra)
    if closer:
        text += " " + closer
    return text


# --------------------------------------------------------------------------- names

FR_FIRST = [
    "Julie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Clara", "Lucie",
    "Pauline", "Mathilde", "Sandrine", "Nathalie", "Céline", "Aurélie", "Margaux", "Anaïs",
    "Fatima", "Yasmine", "Sophie", "Agathe", "Hélène", "Louise", "Jeanne", "Marine", "Océane",
    "Nicolas", "Julien", "Maxime", "Antoine", "Kevin", "Romain", "Mehdi", "Karim", "Yanis",
    "Lucas", "Théo", "Baptiste", "Quentin", "Guillaume", "Sébastien", "Olivier", "Arnaud",
    "Damien", "Benoît", "Jérôme", "Loïc", "Gaël", "Rémi", "Cédric", "Franck", "Pascal",
    "Bruno", "Alexandre", "Florian", "Samir", "Adrien", "Vincent", "Morgane",
]
FR_LAST = [
    "Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Michel",
    "Garcia", "Roux", "Fournier", "Girard", "Bonnet", "Lambert", "Fontaine", "Rousseau",
    "Muller", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Chevalier", "Legrand",
    "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Henry", "Roussel", "Mathieu", "Masson",
    "Marchetti", "Duval", "Denis", "Lemaire", "Noël", "Meyer", "Dumas", "Brunet", "Schmitt",
    "Colin", "Renard", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois",
    "Renaud", "Lemoine", "Picard", "Gaillard", "Lacroix", "Fabre", "Dupuis", "Rey", "Haddad",
    "Nguyen", "Traoré", "Kerbrat", "Le Gall", "Besnard", "Tessier", "Ferreira", "Lopez",
]
EN_FIRST = [
    "Emily", "Olivia", "Sophie", "Grace", "Hannah", "Charlotte", "Amelia", "Lucy", "Chloe",
    "Megan", "Rachel", "Laura", "Priya", "Aisha", "Zoe", "Kate", "Ella", "Jessica", "James",
    "Oliver", "Jack", "Harry", "George", "Daniel", "Samuel", "Ben", "Matthew", "Ryan", "Liam",
    "Connor", "Ethan", "Joshua", "Adam", "Owen", "Callum", "Rohan", "Tom", "Alex", "Chris",
    "Nathan", "Michael", "Dominic", "Patrick", "Fiona",
]
EN_LAST = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Phillips", "Mason", "Mitchell", "Rose",
    "Cox", "Morgan", "Bennett", "Hughes", "Fisher", "Barker", "Holmes", "Murray", "Kennedy",
    "Palmer", "Hayes", "Marshall", "Gibson", "Ellis", "Shaw", "Lloyd", "Fletcher", "Harper",
    "O'Neill", "McAllister",
]
USED_NAMES: set[tuple[str, str]] = {("Marc", "Dupont"), ("Nicolas", "Garnier"), ("Élodie", "Garnier")}


def new_name(lang: str) -> tuple[str, str]:
    firsts, lasts = (FR_FIRST, FR_LAST) if lang == "fr" else (EN_FIRST, EN_LAST)
    while True:
        name = (pick(firsts), pick(lasts))
        if name not in USED_NAMES:
            USED_NAMES.add(name)
            return name


# --------------------------------------------------------------------------- handles

USED_HANDLES: set[str] = set()
MASTO_INSTANCES = ["pouet.example", "toot.example", "social.example", "masto-fr.example",
                   "piaille.example", "mastodon.example", "fedi.example"]
B32 = "abcdefghijklmnopqrstuvwxyz234567"
B36 = "abcdefghijklmnopqrstuvwxyz0123456789"


def claim(handle: str) -> str | None:
    key = handle.lower()
    if key in USED_HANDLES:
        return None
    USED_HANDLES.add(key)
    return handle


def mastodon_handle(first: str, last: str) -> str:
    f, l = name_token(first), name_token(last)
    while True:
        user = pick([f"{f}.{l}", f"{f}{l[0]}", f"{l}_{f[0]}", f"{f}_{l}", f"{f}{RNG.randint(2, 99)}"])
        h = claim(f"{user}@{pick(MASTO_INSTANCES)}")
        if h:
            return h


def bluesky_handle(first: str, last: str) -> str:
    f, l = name_token(first), name_token(last)
    while True:
        user = pick([f"{f}{l}", f"{f}-{l}", f"{f[0]}{l}", f"{f}{l[:3]}", f"{f}-{RNG.randint(2, 99)}"])
        h = claim(f"{user}.bsky.social")
        if h:
            return h


def reddit_handle(first: str, last: str, lang: str) -> str:
    f, l = ascii_fold(first).replace(" ", ""), ascii_fold(last).replace(" ", "").replace("'", "")
    city = ascii_fold(pick(CITIES_FR)).replace(" ", "").replace("-", "")
    while True:
        user = pick([
            f"{f}_{city}", f"{l.lower()}{RNG.randint(10, 99)}", f"{f.lower()}_{l[0].lower()}_{RNG.randint(70, 99)}",
            f"{f}{l}", f"throwaway_{f.lower()}{RNG.randint(1, 9)}",
            (f"expat_in_{city.lower()}" if lang == "en" else f"Le_{l}"),
        ])
        h = claim(user)
        if h:
            return h


def mastodon_user_instance(handle: str) -> tuple[str, str]:
    user, instance = handle.split("@", 1)
    return user, instance


def did_plc() -> str:
    return "did:plc:" + "".join(pick(B32) for _ in range(24))


def reddit_t2() -> str:
    return "t2_" + "".join(pick(B36) for _ in range(8))


# --------------------------------------------------------------------------- world data

CITIES_FR = ["Nantes", "Lille", "Bordeaux", "Toulouse", "Rennes", "Montpellier", "Strasbourg",
             "Marseille", "Dijon", "Angers", "Tours", "Clermont-Ferrand", "Brest", "Caen", "Nancy",
             "Rouen", "Paris", "Orléans", "Limoges", "Poitiers", "Nice", "Metz"]
OUTAGE_CITIES = ["Lyon", "Villeurbanne", "Grenoble", "Saint-Étienne", "Annecy", "Chambéry",
                 "Vienne", "Bron", "Vénissieux"]
QUARTERS_FR = ["de la gare", "du centre-ville", "des Chartrons", "de la Croix-Rousse",
               "Saint-Michel", "des Capucins", "du Vieux-Port"]
QUARTERS_EN = ["station", "old town", "city centre", "riverside", "university"]
COUNTRIES_FR = ["en Espagne", "en Italie", "au Portugal", "en Suisse", "au Royaume-Uni", "en Allemagne", "en Grèce"]
COUNTRIES_EN = ["Spain", "Italy", "Portugal", "Switzerland", "the UK", "Germany", "Greece"]
COMPETITORS_FR = ["Zéphyr Télécom", "Zéphyr", "Arcadia Mobile", "Arcadia"]
COMPETITORS_EN = ["Zéphyr Télécom", "Zephyr", "Arcadia Mobile", "Arcadia"]
PRODUCTS = ["Lumio Box", "Lumio Fibre", "Lumio Mobile", "Lumio Box Fibre + TV"]
AGENTS = ["Karim", "Sophie", "Mehdi", "Laura", "Yann", "Chloé", "Bastien", "Nora"]
MONTHS_FR = ["juillet", "août", "septembre"]
MONTHS_EN = ["July", "August", "September"]
CARE = "@LumioCare"
STATUS_URL = "https://status.lumio.example/incidents/2026-11-12-fibre"


def mk_slots(lang: str) -> dict:
    lo = pick(["19,99", "24,99", "29,99", "34,99"])
    hi = f"{float(lo.replace(',', '.')) + pick([10, 15, 20]):.2f}".replace(".", ",")
    small = pick(["9", "12", "15", "19,90", "29"])
    return dict(
        care=CARE, city=pick(CITIES_FR), outage_city=pick(OUTAGE_CITIES),
        product=pick(PRODUCTS), product_home=pick(["Lumio Box", "Lumio Fibre"]),
        price_lo=lo, price_hi=hi, price_small=small,
        price_lo_en=lo.replace(",", "."), price_hi_en=hi.replace(",", "."), price_small_en=small.replace(",", "."),
        n_months=pick([3, 4, 6, 9, 12]), data_gb=pick([20, 60, 100, 150]), days=RNG.randint(3, 16),
        hours=RNG.randint(2, 30), minutes=pick([35, 40, 45, 50, 55, 70, 90]),
        speed_low=pick([38, 54, 72, 95, 110]), speed_high=pick([870, 910, 936, 942, 1890, 2300]),
        quarter=pick(QUARTERS_FR if lang == "fr" else QUARTERS_EN),
        country=pick(COUNTRIES_FR), country_en=pick(COUNTRIES_EN),
        competitor=pick(COMPETITORS_FR if lang == "fr" else COMPETITORS_EN),
        n_years=RNG.randint(2, 11), n_posts=pick([6, 8, 12, 15, 25, 40]), year=RNG.randint(2016, 2025),
        agent_name=pick(AGENTS), month_past=pick(MONTHS_FR if lang == "fr" else MONTHS_EN),
        n_days=RNG.randint(3, 9), n_people=RNG.randint(3, 6),
        start="9h05", start_en="9am",
    )


# --------------------------------------------------------------------------- text fragments
# Cores start lower-case unless they open on a proper noun; join_parts capitalises as needed.

COMPLAINT = {
    "fr": {
        "billing": [
            "on m'a facturé {price_hi} € au lieu des {price_lo} € promis à la souscription de la {product_home}.",
            "le prélèvement Lumio de ce mois est passé deux fois ({price_lo} € × 2) et personne n'est capable de me dire quand je serai remboursé.",
            "des frais de résiliation apparaissent sur ma facture Lumio alors que je n'ai rien résilié du tout.",
            "ma promo Lumio à {price_lo} € s'est arrêtée au bout de {n_months} mois sans le moindre préavis, la facture a bondi.",
            "Lumio me facture la location d'un décodeur TV que je n'ai jamais reçu.",
            "{price_small} € de « frais de dossier » sortis de nulle part sur la dernière facture {product}.",
            "ma facture Lumio Mobile affiche {data_gb} Go de hors-forfait alors que j'étais en wifi toute la semaine.",
            "toujours facturé pour le décodeur Lumio rendu en {month_past}, avec l'accusé de réception en main.",
        ],
        "outage": [
            "plus de connexion depuis {hours} heures à {city}, la Lumio Box clignote en rouge.",
            "coupure internet tous les soirs vers 21 h avec la Lumio Box, impossible de regarder un film sans que ça saute.",
            "la fibre Lumio tombe plusieurs fois par jour depuis {days} jours et je suis en télétravail. C'est juste pas possible.",
            "réseau Lumio Mobile inexistant dans tout le quartier {quarter} depuis ce matin.",
            "débit divisé par dix depuis la semaine dernière : {speed_low} Mb/s sur une fibre Lumio censée faire 1 Gb/s.",
            "la ligne fixe de la Lumio Box ne fonctionne plus depuis {days} jours, ma mère ne peut plus m'appeler.",
        ],
        "support": [
            "{minutes} minutes d'attente au service client Lumio pour finalement être raccroché au nez.",
            "ça fait {days} jours que j'ai ouvert un ticket chez Lumio, toujours aucune réponse.",
            "le chat de l'appli Lumio me renvoie en boucle vers la FAQ, jamais un humain.",
            "troisième rendez-vous technicien Lumio, troisième lapin. Personne ne prévient.",
            "Lumio m'a promis un rappel sous 48 h… c'était il y a {days} jours.",
            "chaque conseiller Lumio me donne une version différente, personne ne lit l'historique du dossier.",
        ],
        "router": [
            "la Lumio Box redémarre toute seule plusieurs fois par jour depuis la dernière mise à jour.",
            "le wifi de la Lumio Box ne passe même pas d'une pièce à l'autre.",
            "la Lumio Box chauffe énormément et le wifi décroche dès qu'on est trois connectés.",
            "impossible d'ouvrir un port sur la Lumio Box, l'interface plante à chaque fois.",
            "la mise à jour firmware de la Lumio Box a cassé le wifi 5 GHz, mes appareils ne le voient plus.",
            "deuxième Lumio Box défectueuse en {n_months} mois, même symptôme : plus de synchro fibre.",
        ],
    },
    "en": {
        "billing": [
            "I was charged €{price_hi_en} instead of the €{price_lo_en} I signed up for on {product_home}.",
            "the Lumio direct debit went out twice this month and nobody can tell me when I'll get it back.",
            "there's a cancellation fee on my Lumio bill and I haven't cancelled anything.",
            "my Lumio promo price ended after {n_months} months with zero warning and the bill nearly doubled.",
            "Lumio is still billing me for a TV box I returned in {month_past}. I have the tracking receipt.",
            "a €{price_small_en} \"admin fee\" appeared on my {product} bill out of nowhere.",
            "Lumio Mobile billed me for {data_gb} GB of extra data while I was on wifi the whole week.",
            "being charged rent for a Lumio TV decoder that never arrived.",
        ],
        "outage": [
            "no internet for {hours} hours now in {city}, the Lumio Box light is blinking red.",
            "my Lumio connection drops every evening around 9pm, can't get through a single video call.",
            "Lumio fibre has been dropping several times a day for {days} days. I work from home. This is not OK.",
            "zero Lumio Mobile signal in the whole {quarter} area since this morning.",
            "getting {speed_low} Mbps on a 1 Gbps Lumio fibre plan. Ten times slower than last week.",
            "the landline on my Lumio Box has been dead for {days} days.",
        ],
        "support": [
            "{minutes} minutes on hold with Lumio only to get cut off.",
            "opened a ticket with Lumio {days} days ago, still nothing.",
            "the chat in the Lumio app keeps sending me back to the FAQ. Is there a human anywhere?",
            "third Lumio technician visit booked, third no-show. Nobody even calls.",
            "Lumio promised a callback within 48h. That was {days} days ago.",
            "every Lumio agent tells me something different and nobody reads the case history.",
        ],
        "router": [
            "my Lumio Box keeps rebooting itself since the last update.",
            "Lumio Box wifi doesn't even reach the next room.",
            "the Lumio Box runs scorching hot and the wifi drops as soon as three of us are online.",
            "can't forward a single port on the Lumio Box, the admin page crashes every time.",
            "the Lumio Box firmware update killed the 5 GHz band, none of my devices see it anymore.",
            "second faulty Lumio Box in {n_months} months, same symptom: no fibre sync.",
        ],
    },
}
COMPLAINT_OPENERS = {
    "fr": ["Sérieusement {care} ?", "Petit coup de gueule :", "Franchement, j'en peux plus.",
           "Ça commence à bien faire.", "Encore une fois…", "Je rêve.", "{care}", "Bon."],
    "en": ["Seriously {care}?", "Rant incoming.", "Not impressed.", "Come on, {care}.",
           "Third time this month.", "Ugh.", "{care}", "Right."],
}
COMPLAINT_CLOSERS = {
    "fr": ["Quelle déception.", "C'est inadmissible.", "Je ne sais plus quoi faire.",
           "Quelqu'un a le même souci ?", "On paie pour ça ?", "Si quelqu'un chez {care} lit ça…",
           "Ras-le-bol.", "Merci de me répondre en MP."],
    "en": ["Really disappointed.", "Unacceptable.", "Anyone else?", "Paying full price for this, btw.",
           "If anyone at {care} reads this…", "So tired of this.", "DM me if you actually want to fix it.",
           "Not good enough."],
}
COMPLAINT_EXTRAS = {  # any complaint or churn threat
    "fr": ["Pour info je suis à {city}, client depuis {year}.", "Le conseiller m'a dit que c'était « en cours de traitement ».",
           "J'ai les captures d'écran si besoin.", "Numéro de dossier transmis trois fois déjà."],
    "en": ["For context I'm in {city}, customer since {year}.", "The agent said it was \"being looked into\".",
           "Got screenshots if anyone needs proof.", "I've given them my case number three times now."],
}
TECH_EXTRAS = {  # only for connection / router trouble
    "fr": ["J'ai déjà redémarré la box, changé le câble, rien n'y fait.", "Mon voisin chez {competitor} n'a aucun souci, lui.",
           "Deux enfants à la maison plus le télétravail, bref c'est l'enfer."],
    "en": ["Already rebooted the box and swapped cables, nothing.", "My neighbour on {competitor} has zero issues.",
           "Two kids and two of us working from home, so it's a nightmare."],
}
COMPLAINT_TITLES = {
    "fr": {"billing": ["Facturation incompréhensible", "Double prélèvement, remboursement interminable", "Attention aux frais cachés"],
           "outage": ["Coupures à répétition", "Fibre instable", "Connexion catastrophique depuis des semaines"],
           "support": ["Service client aux abonnés absents", "SAV injoignable", "Des promesses, jamais de rappel"],
           "router": ["Box capricieuse", "Wifi indigne d'une box en 2026", "Lumio Box qui redémarre en boucle"]},
    "en": {"billing": ["Billing is a mess", "Charged twice, still waiting", "Watch out for hidden fees"],
           "outage": ["Constant drop-outs", "Unstable fibre", "Weeks of terrible connection"],
           "support": ["Support is unreachable", "Never got the promised callback", "Customer service is a maze"],
           "router": ["Temperamental router", "Wifi range is a joke", "Lumio Box reboots all the time"]},
}
COMPLAINT_TAGS = {"fr": ["#Lumio", "#SAV", "#serviceclient", "#coupdegueule"], "en": ["#Lumio", "#customerservice", "#fail"]}
COMPLAINT_SUB_TAGS = {"fr": {"billing": ["#facture"], "outage": ["#panne"], "support": [], "router": ["#LumioBox", "#wifi"]},
                      "en": {"billing": ["#billing"], "outage": ["#outage"], "support": [], "router": ["#LumioBox", "#wifi"]}}

SPIKE = {
    "fr": [
        "panne fibre Lumio depuis {start} ce matin à {outage_city}, plus rien ne passe.",
        "toujours pas de fibre à {outage_city}. {care} vous avez une estimation pour le retour ?",
        "grosse panne Lumio Fibre sur {outage_city} et alentours : box en rouge et service client saturé.",
        "panne fibre générale chez Lumio ? Toute la rue est coupée ici à {outage_city}.",
        "réunion client ratée à cause de la panne fibre Lumio. Merci pour rien.",
        "la page d'état Lumio affiche « incident en cours » depuis {hours} h et aucune info concrète.",
        "pas de fibre, pas de télé, pas de fixe. Et la 4G Lumio Mobile sature aussi, évidemment.",
        "les enfants ont cours en ligne et plus d'internet. Panne fibre Lumio à {outage_city}, on fait comment ?",
        "{hours} h sans internet en plein télétravail à cause de la panne Lumio, je vais exiger un geste commercial.",
        "la boutique Lumio de {outage_city} renvoie tout le monde vers le 3900, qui ne répond pas.",
        "toute l'équipe est bloquée au bureau, panne fibre Lumio depuis {start}. Journée perdue.",
    ],
    "en": [
        "Lumio fibre outage in {outage_city} since {start_en} this morning, nothing works.",
        "still no fibre in {outage_city}. {care} any ETA?",
        "massive Lumio Fibre outage around {outage_city}: box blinking red, support line jammed.",
        "is this a general Lumio outage? The whole street is down here in {outage_city}.",
        "missed a client call because of the Lumio outage. Great.",
        "the Lumio status page has said \"incident in progress\" for {hours}h with zero real info.",
        "no fibre, no TV, no landline thanks to the Lumio outage. Working from a café now.",
        "kids have online classes and we have no internet. Lumio outage in {outage_city}, what are we supposed to do?",
        "{hours_en} offline while working from home because of Lumio. I'll be asking for a refund for today.",
        "whole office down since {start_en}, Lumio fibre outage. Day wasted.",
    ],
}
SPIKE_OPENERS = {"fr": ["Sérieusement ?", "{care}", "Génial.", "Ça commence bien la journée…", "Encore ?!", "Alerte :"],
                 "en": ["Seriously?", "{care}", "Brilliant.", "Great start to the day…", "Again?!", "Heads up:"]}
SPIKE_CLOSERS = {"fr": ["Quelqu'un d'autre touché ?", "Aucune communication, c'est ça le pire.", "On nous prend pour qui ?",
                        "Vivement le retour.", "Ça devient une habitude."],
                 "en": ["Anyone else affected?", "Zero communication, that's the worst part.", "Come on.",
                        "Hope it's back soon.", "Not the first time either."]}
SPIKE_TAGS = {"fr": ["#PanneLumio", "#pannefibre", "#Lumio"], "en": ["#LumioOutage", "#outage", "#Lumio", "#fibre"]}

PRAISE = {
    "fr": [
        "installation de la Lumio Fibre faite en {n_days} jours, technicien ponctuel et super pro.",
        "{speed_high} Mb/s en descendant sur la fibre Lumio, je redécouvre internet.",
        "{care} m'a rappelé dans l'heure et a réglé mon souci de box en deux minutes.",
        "l'appli Lumio est enfin bien faite : facture, conso, dépannage, tout est clair.",
        "roaming inclus avec Lumio Mobile {country}, aucune mauvaise surprise sur la facture.",
        "deux ans chez Lumio et pas une seule coupure. Je ne m'attendais pas à ça.",
        "le répéteur wifi envoyé gratuitement par Lumio a réglé la zone morte à l'étage.",
        "geste commercial spontané de Lumio : {price_small} € déduits de ma facture sans même avoir demandé.",
        "portabilité du numéro vers Lumio Mobile faite en une demi-journée, zéro coupure.",
        "{agent_name} du service client Lumio : patience et efficacité, rien à dire.",
        "la nouvelle Lumio Box est silencieuse, jolie et le wifi couvre toute la maison.",
    ],
    "en": [
        "Lumio Fibre installed in {n_days} days, technician on time and super professional.",
        "{speed_high} Mbps down on Lumio Fibre. I'd forgotten the internet could feel like this.",
        "{care} called me back within the hour and fixed my box issue in two minutes.",
        "the Lumio app is actually good now: bills, usage, troubleshooting, all in one place.",
        "roaming in {country_en} included on Lumio Mobile, no nasty surprise on the bill.",
        "two years with Lumio and not a single outage. Didn't expect that.",
        "the free wifi extender Lumio sent fixed the dead zone upstairs.",
        "Lumio knocked €{price_small_en} off my bill without me even asking. Respect.",
        "ported my number to Lumio Mobile in half a day, zero downtime.",
        "shoutout to {agent_name} from Lumio support, patient and genuinely helpful.",
        "the new Lumio Box is silent, looks nice and the wifi covers the whole house.",
    ],
}
PRAISE_RESTORE = {
    "fr": ["fibre revenue à {outage_city} 🎉 merci aux techniciens Lumio qui ont bossé toute la journée.",
           "la connexion est revenue, et {care} a répondu aux messages un par un toute la journée. Respect.",
           "retour de la fibre Lumio à {outage_city} après la panne, et en plus ça va plus vite qu'avant 😄"],
    "en": ["fibre's back in {outage_city} 🎉 thanks to the Lumio techs who worked all day.",
           "connection's back. Props to {care} for answering everyone one by one all day.",
           "Lumio fibre back after the outage in {outage_city}, and it's even faster than before 😄"],
}
PRAISE_OPENERS = {"fr": ["Bon, pour une fois je vais dire du bien :", "Il faut le dire quand ça marche :",
                         "Agréablement surpris :", "Petit retour d'expérience :", "Honnêtement,", "Je l'avoue,"],
                  "en": ["Credit where it's due:", "Have to say it when things work:", "Pleasantly surprised:",
                         "Quick update:", "Honestly,", "Gotta admit,"]}
PRAISE_CLOSERS = {"fr": ["Merci {care} 👏", "Rien à redire.", "Je recommande.", "Comme quoi, ça arrive.",
                         "Bravo aux équipes.", "10/10.", "Continuez comme ça !"],
                  "en": ["Thanks {care} 👏", "No complaints.", "Would recommend.", "Well done, team.", "10/10.", "Keep it up!"]}
PRAISE_EXTRAS = {"fr": ["Client depuis {year}, j'ai connu pire ailleurs.", "J'étais sceptique après les avis en ligne.",
                        "J'arrive de chez {competitor}, la différence est nette."],
                 "en": ["Customer since {year}, I've seen much worse elsewhere.", "Was sceptical after reading the reviews.",
                        "Came over from {competitor}, night and day."]}
PRAISE_TITLES = {"fr": ["Enfin un opérateur sérieux", "Très bonne surprise", "Installation rapide et propre", "Rien à redire", "Support au top"],
                 "en": ["Finally a provider that works", "Pleasant surprise", "Quick, clean install", "No complaints at all", "Great support"]}
PRAISE_TAGS = {"fr": ["#Lumio", "#merci", "#bravo"], "en": ["#Lumio", "#thanks", "#kudos"]}

QUESTION = {  # (text, topic, kind)
    "fr": [
        ("comment on active le wifi invité sur la Lumio Box ?", "guest_wifi", "how"),
        ("comment changer le mot de passe wifi depuis l'appli Lumio ?", "wifi_pwd", "how"),
        ("quelqu'un sait comment passer la Lumio Box en mode bridge ?", "bridge", "how"),
        ("où est-ce qu'on télécharge sa facture en PDF dans l'espace client Lumio ?", "pdf_bill", "how"),
        ("comment activer l'eSIM Lumio Mobile sur un Pixel ?", "esim", "how"),
        ("la fibre Lumio passe à combien après la promo de 12 mois ?", "promo_end", "pricing"),
        ("il y a des frais de mise en service sur la Lumio Fibre ?", "setup_fee", "pricing"),
        ("le forfait Lumio Mobile {data_gb} Go à {price_lo} € est-il vraiment sans engagement ?", "mobile_plan", "pricing"),
        ("le décodeur TV est inclus dans le prix de la Lumio Box ou c'est en option ?", "tv_box", "pricing"),
        ("le forfait Lumio Mobile fonctionne {country} sans surcoût ?", "roaming_eu", "roaming"),
        ("combien coûte le roaming Lumio hors UE, genre au Maroc ou aux États-Unis ?", "roaming_noneu", "roaming"),
        ("je pars au Canada en décembre, il faut activer quelque chose sur ma ligne Lumio ?", "roaming_canada", "roaming"),
    ],
    "en": [
        ("how do I turn on guest wifi on the Lumio Box?", "guest_wifi", "how"),
        ("how do I change the wifi password from the Lumio app?", "wifi_pwd", "how"),
        ("anyone know how to put the Lumio Box in bridge mode?", "bridge", "how"),
        ("where do I download a PDF of my bill in the Lumio customer area?", "pdf_bill", "how"),
        ("how do I set up the Lumio Mobile eSIM on an iPhone?", "esim", "how"),
        ("how much does Lumio Fibre cost once the 12-month promo ends?", "promo_end", "pricing"),
        ("are there setup fees on Lumio Fibre?", "setup_fee", "pricing"),
        ("is the Lumio Mobile {data_gb} GB plan at €{price_lo_en} really contract-free?", "mobile_plan", "pricing"),
        ("is the TV decoder included in the Lumio Box price or is it extra?", "tv_box", "pricing"),
        ("does Lumio Mobile work in {country_en} without extra charges?", "roaming_eu", "roaming"),
        ("what does Lumio roaming cost outside the EU, e.g. the US or Morocco?", "roaming_noneu", "roaming"),
        ("travelling to Canada in December, do I need to activate anything on my Lumio line?", "roaming_canada", "roaming"),
    ],
}
QUESTION_OPENERS = {"fr": ["Question bête :", "Petite question aux abonnés Lumio :", "Besoin d'un coup de main :", "Dites,", "{care}", "Hello,"],
                    "en": ["Quick question:", "Lumio folks,", "Help please:", "Hey {care},", "Hi all,", "Dumb question:"]}
QUESTION_CLOSERS = {"fr": ["Merci d'avance 🙏", "Merci !", "Je ne trouve rien dans la FAQ.", "Des retours ?", "Je suis un peu perdu là."],
                    "en": ["Thanks in advance 🙏", "Cheers!", "Couldn't find it in the FAQ.", "Any experiences?", "Bit lost here."]}
QUESTION_EXTRAS = {
    "fr": {"how": ["L'assistant de l'appli ne comprend pas ma question.", "J'ai cherché partout sans trouver.", "Pas très doué avec ces trucs-là 😅"],
           "pricing": ["Le site n'est pas très clair là-dessus.", "Abonné depuis peu, je découvre.", "Je voudrais éviter les mauvaises surprises sur la facture."],
           "roaming": ["Je pars deux semaines, je voudrais éviter les mauvaises surprises.", "Abonné depuis peu, je découvre.",
                       "L'assistant de l'appli ne comprend pas ma question."]},
    "en": {"how": ["The app assistant doesn't understand my question.", "Looked everywhere, can't find it.", "Not very techy, sorry 😅"],
           "pricing": ["The website isn't very clear about it.", "New customer, still finding my way around.", "Trying to avoid surprises on the bill."],
           "roaming": ["Away for two weeks, trying to avoid surprises on the bill.", "New customer, still finding my way around.",
                       "The app assistant doesn't understand my question."]},
}
QUESTION_TITLES = {"fr": {"how": ["Besoin d'aide pour configurer la box", "Question sur l'appli Lumio", "Réglage de la Lumio Box"],
                          "pricing": ["Question tarifs fibre", "Prix après la promo ?", "Tarifs Lumio : qui peut m'éclairer ?"],
                          "roaming": ["Roaming avec Lumio Mobile", "Forfait à l'étranger ?", "Voyage hors UE et Lumio"]},
                   "en": {"how": ["Help setting up the box", "Question about the Lumio app", "Lumio Box settings"],
                          "pricing": ["Fibre pricing question", "Price after the promo?", "Lumio prices, can anyone clarify?"],
                          "roaming": ["Roaming with Lumio Mobile", "Using my plan abroad?", "Travelling outside the EU with Lumio"]}}
QUESTION_TAGS = {"fr": {"how": ["#Lumio", "#aide", "#LumioBox"], "pricing": ["#Lumio", "#tarifs", "#fibre"],
                        "roaming": ["#LumioMobile", "#roaming", "#voyage"]},
                 "en": {"how": ["#Lumio", "#help", "#LumioBox"], "pricing": ["#Lumio", "#pricing", "#fibre"],
                        "roaming": ["#LumioMobile", "#roaming", "#travel"]}}

PURCHASE = {  # (text, sentiment)
    "fr": [
        ("je vais prendre la fibre Lumio, l'offre à {price_lo} € est imbattable dans mon coin.", "positive"),
        ("on emménage à {city} le mois prochain, je pense partir sur la Lumio Box.", "neutral"),
        ("je compte passer chez Lumio Mobile pour le forfait {data_gb} Go. Des retours sur le réseau à {city} ?", "neutral"),
        ("la fibre vient d'arriver dans mon immeuble, je signe chez Lumio ce week-end !", "positive"),
        ("après {n_years} ans chez {competitor}, je crois que je vais tenter Lumio.", "neutral"),
        ("devis demandé pour équiper nos {n_posts} postes au bureau avec Lumio Pro, à suivre.", "neutral"),
        ("mon voisin a la Lumio Fibre et ça envoie, je vais sûrement prendre la même.", "positive"),
        ("je regarde pour ajouter deux lignes Lumio Mobile pour les ados, l'offre famille a l'air pas mal.", "positive"),
        ("simulation faite sur le site Lumio : box + 2 forfaits mobiles pour moins cher que ce que je paie aujourd'hui. Je crois que je vais sauter le pas.", "positive"),
        ("on ouvre une deuxième boutique à {city}, je vais sans doute reprendre la même offre Lumio Pro que pour la première.", "positive"),
        ("je vais passer à la Lumio Fibre 2 Gb/s, l'upgrade ne coûte que 5 € de plus par mois.", "positive"),
        ("on va ajouter la ligne de secours 5G Lumio Pro au bureau, vu la dernière panne ça me paraît indispensable.", "neutral"),
        ("je compte ajouter l'option TV à ma Lumio Box pour les fêtes, quelqu'un l'a testée ?", "neutral"),
    ],
    "en": [
        ("thinking of switching to Lumio, the €{price_lo_en} fibre deal is hard to beat around here.", "positive"),
        ("moving to {city} next month, probably going with the Lumio Box.", "neutral"),
        ("planning to get Lumio Mobile for the {data_gb} GB plan. How's the coverage in {city}?", "neutral"),
        ("fibre finally reached our building, signing up with Lumio this weekend!", "positive"),
        ("after {n_years} years with {competitor} I think I'll give Lumio a go.", "neutral"),
        ("asked Lumio Business for a quote to kit out our {n_posts} desks, fingers crossed.", "neutral"),
        ("my neighbour has Lumio Fibre and it flies, I'm getting the same.", "positive"),
        ("looking at adding two Lumio Mobile lines for the kids, the family bundle looks decent.", "positive"),
        ("ran the numbers on the Lumio site: box + 2 mobile plans for less than I pay now. Pretty sure I'm switching.", "positive"),
        ("opening a second shop in {city}, will probably take the same Lumio Business plan as for the first one.", "positive"),
        ("upgrading to Lumio Fibre 2 Gbps, it's only €5 more a month.", "positive"),
        ("we're adding the Lumio Business 5G backup line at the office, after the last outage it feels essential.", "neutral"),
        ("planning to add the TV option to my Lumio Box for the holidays, anyone tried it?", "neutral"),
    ],
}
PURCHASE_OPENERS = {"fr": ["Bon,", "Hello !", "Petite annonce :", "Allez,"], "en": ["Right,", "Hi all!", "Small update:", "Okay,"]}
PURCHASE_CLOSERS = {"fr": ["Des avis ?", "Hâte 😄", "On verra bien.", "Je vous dirai.", "Vos retours sont les bienvenus."],
                    "en": ["Any thoughts?", "Can't wait 😄", "We'll see.", "Will report back.", "Experiences welcome."]}
PURCHASE_EXTRAS = {  # home buyers
    "fr": ["On est {n_people} à la maison, beaucoup de streaming et de télétravail.", "Le conseiller en boutique était de bon conseil."],
    "en": ["There are {n_people} of us at home, lots of streaming and remote work.", "The guy in the shop was actually helpful."],
}
SWITCHER_EXTRAS = {  # people who are not Lumio customers yet
    "fr": ["Je paie actuellement {price_hi} € chez {competitor}.", "Mon engagement chez {competitor} se termine le mois prochain."],
    "en": ["Currently paying €{price_hi_en} with {competitor}.", "My {competitor} contract runs out next month."],
}
BUSINESS_EXTRAS = {  # business buyers
    "fr": ["Nous sommes {n_posts} au bureau, la visio tourne toute la journée.", "Le commercial Lumio Pro a été très réactif."],
    "en": ["We're {n_posts} in the office, video calls all day.", "The Lumio Business rep was very responsive."],
}
PURCHASE_TITLES = {"fr": ["Passer chez Lumio, bonne idée ?", "Avis avant de souscrire", "Nouvel arrivant, quelle box choisir ?"],
                   "en": ["Switching to Lumio, good idea?", "Advice before signing up", "New in town, which provider?"]}
PURCHASE_TAGS = {"fr": ["#Lumio", "#télécoms"], "en": ["#Lumio", "#telecoms"]}

CHURN = {
    "fr": [
        "je résilie ma Lumio Box dès la fin du mois, j'en ai marre.",
        "c'est décidé, je quitte Lumio pour {competitor}. {n_years} ans de fidélité pour être traité comme ça.",
        "lettre de résiliation envoyée. Adieu Lumio.",
        "si ma ligne Lumio n'est pas réparée d'ici vendredi, je résilie et je passe chez {competitor}.",
        "{competitor} me propose la fibre à {price_lo} € sans engagement. Lumio, vous avez 48 h pour me convaincre de rester.",
        "je viens de demander mon RIO pour quitter Lumio et partir chez {competitor}.",
        "nous ne renouvellerons pas nos {n_posts} lignes pro chez Lumio l'an prochain.",
        "je résilie tout chez Lumio : box, deux forfaits mobiles. Trop de galères cette année.",
    ],
    "en": [
        "cancelling my Lumio Box at the end of the month. Done.",
        "that's it, I'm leaving Lumio for {competitor}. {n_years} years as a customer and this is how I get treated.",
        "cancellation letter sent. Bye, Lumio.",
        "if my Lumio line isn't fixed by Friday I'm cancelling and moving to {competitor}.",
        "{competitor} offered me fibre at €{price_lo_en} with no contract. Lumio, you've got 48 hours to make me stay.",
        "just requested my porting code, moving my number from Lumio to {competitor}.",
        "we won't be renewing our {n_posts} business lines with Lumio next year.",
        "cancelling everything with Lumio: broadband and two mobile plans. Too much hassle this year.",
    ],
}
CHURN_OPENERS = {"fr": ["Bon.", "C'est fini.", "Dernier avertissement {care} :", "Après la panne de trop,", "Voilà,"],
                 "en": ["Right.", "That's it.", "Final warning {care}:", "After one outage too many,", "So,"]}
CHURN_CLOSERS = {"fr": ["Aucun regret.", "Bravo, vous avez perdu un client.", "Dommage, au début c'était bien.", "Je ne recommande pas.", "Tant pis."],
                 "en": ["No regrets.", "Well done, you've lost a customer.", "Shame, it was good at first.", "Wouldn't recommend.", "Oh well."]}
CHURN_TITLES = {"fr": ["Je résilie", "Fin de l'aventure Lumio", "Fidélité non récompensée"],
                "en": ["Cancelling", "Done with Lumio", "Loyalty means nothing here"]}
CHURN_TAGS = {"fr": ["#Lumio", "#résiliation", "#ByeLumio"], "en": ["#Lumio", "#ByeLumio", "#cancelled"]}

COMPETITOR = {  # (text, sentiment, intent)
    "fr": [
        ("je dois reconnaître que la Zéphyr Box tient la route, pas une coupure en un an. Lumio devrait s'en inspirer.", "positive", "praise"),
        ("le service client {competitor} m'a répondu en 5 minutes sur le chat, chapeau.", "positive", "praise"),
        ("réseau Arcadia Mobile impeccable dans le TGV Paris-Lyon, j'ai pu bosser tout le trajet.", "positive", "praise"),
        ("{competitor} m'a encore facturé du hors-forfait en Suisse, ras-le-bol.", "negative", "complaint"),
        ("trois semaines que j'attends mon raccordement fibre chez Zéphyr Télécom, toujours rien.", "negative", "complaint"),
        ("la nouvelle appli {competitor} est une catastrophe, impossible de voir ma conso.", "negative", "complaint"),
        ("hausse de prix surprise chez {competitor} : +4 € par mois sans rien de plus. Sympa.", "negative", "complaint"),
        ("Zéphyr Télécom annonce une fibre à 24,99 € pour concurrencer Lumio, la guerre des prix reprend.", "neutral", "other"),
        ("quelqu'un a comparé la couverture Arcadia Mobile et Lumio Mobile en zone rurale ?", "neutral", "question"),
        ("entre Lumio, Zéphyr Télécom et Arcadia Mobile, les offres fibre se ressemblent de plus en plus.", "neutral", "other"),
        ("vu une affiche {competitor} collée à une affiche Lumio dans le métro, ambiance.", "neutral", "other"),
        ("portabilité lancée : je passe de {competitor} à Lumio Mobile, hâte de voir la différence.", "positive", "purchase"),
        ("mon contrat {competitor} se termine en décembre, je regarde sérieusement du côté de Lumio.", "neutral", "purchase"),
    ],
    "en": [
        ("got to admit the Zéphyr Box is solid, not a single drop in a year. Lumio could learn a thing or two.", "positive", "praise"),
        ("{competitor} support answered me in 5 minutes on chat. Impressive.", "positive", "praise"),
        ("Arcadia Mobile coverage on the Paris-Lyon TGV was flawless, worked the whole trip.", "positive", "praise"),
        ("{competitor} charged me roaming in Switzerland AGAIN. Sick of it.", "negative", "complaint"),
        ("three weeks waiting for my Zéphyr Télécom fibre hookup, still nothing.", "negative", "complaint"),
        ("the new {competitor} app is a disaster, can't even see my usage.", "negative", "complaint"),
        ("surprise price hike from {competitor}: +€4 a month for nothing extra. Lovely.", "negative", "complaint"),
        ("Zéphyr Télécom just announced €24.99 fibre to take on Lumio. The price war is back on.", "neutral", "other"),
        ("has anyone compared Arcadia Mobile and Lumio Mobile coverage in rural areas?", "neutral", "question"),
        ("Lumio, Zéphyr Télécom, Arcadia Mobile… French fibre offers all look the same these days.", "neutral", "other"),
        ("saw a {competitor} billboard right next to a Lumio one in the metro. Awkward.", "neutral", "other"),
        ("porting started: moving from {competitor} to Lumio Mobile, curious to see the difference.", "positive", "purchase"),
        ("my {competitor} contract ends in December, seriously looking at Lumio.", "neutral", "purchase"),
    ],
}
COMPETITOR_OPENERS = {"fr": ["Tiens,", "Bon,"], "en": ["Well,", "Huh,"]}
COMPETITOR_CLOSERS = {"fr": ["À suivre.", "Vos expériences ?", "On verra."], "en": ["Watch this space.", "Thoughts?", "We'll see."]}
COMPETITOR_TITLES = {"fr": ["Zéphyr ou Lumio ?", "Retour sur Arcadia Mobile", "Comparatif opérateurs, vos avis"],
                     "en": ["Zéphyr or Lumio?", "Thoughts on Arcadia Mobile", "Comparing providers"]}
COMPETITOR_TAGS = {"fr": ["#télécoms", "#opérateurs"], "en": ["#telecoms"]}

CHATTER = {  # (text, sentiment)
    "fr": [
        ("la nouvelle pub Lumio avec le chat qui débranche la box 😂 je la trouve géniale.", "positive"),
        ("camion Lumio dans ma rue ce matin, ils tirent la fibre jusqu'au bout de l'impasse.", "neutral"),
        ("Lumio sponsorise le semi-marathon de {city} cette année, des t-shirts orange partout.", "neutral"),
        ("tiens, Lumio a changé son logo. Plus rond, plus orange.", "neutral"),
        ("stand Lumio au salon de l'emploi de {city}, ils recrutent des techniciens fibre.", "neutral"),
        ("mon grand-père a appelé le support Lumio pour demander comment « télécharger internet » 😅", "neutral"),
        ("entendu à la boulangerie : « ma box Lumio a plus de lumières que mon sapin de Noël ».", "neutral"),
    ],
    "en": [
        ("that new Lumio ad with the cat unplugging the router 😂 love it.", "positive"),
        ("Lumio van in my street this morning, they're pulling fibre all the way down the cul-de-sac.", "neutral"),
        ("Lumio is sponsoring the {city} half marathon this year, orange t-shirts everywhere.", "neutral"),
        ("huh, Lumio changed its logo. Rounder. More orange.", "neutral"),
        ("Lumio stand at the {city} job fair, they're hiring fibre technicians.", "neutral"),
        ("my grandad rang Lumio support to ask how to \"download the internet\" 😅", "neutral"),
        ("overheard at the bakery: \"my Lumio box has more lights than my Christmas tree\".", "neutral"),
    ],
}
CHATTER_TAGS = {"fr": ["#Lumio"], "en": ["#Lumio"]}

SPAM = {  # (text, link domain, title when posted on a forum or blog)
    "fr": [
        ("🎁 GAGNEZ UN iPhone 17 ! Réservé aux clients Lumio, il ne reste que {n_left} cadeaux 👉 {url} #Lumio #concours #cadeau",
         "cadeau-lumio.example", "🎁 Concours clients Lumio : un iPhone 17 à gagner"),
        ("Code promo {code} : -{pct}% sur la fibre Lumio pendant 1 an !!! Offre limitée ⏳ {url}",
         "promo-fibre-lumio.example", "Codes promo Lumio novembre 2026 : jusqu'à -90 % !"),
        ("J'ai transformé 250 € en {big} € en 3 semaines grâce au bot de trading QuantaYield 💰 Écris-moi en privé. #Lumio #fibre #bitcoin #crypto",
         "quantayield.example", "Comment j'ai multiplié mon épargne par 50"),
        ("Votre remboursement Lumio de {refund} € est en attente. Confirmez vos coordonnées bancaires ici : {url}",
         "lumio-remboursement.example", "Remboursement Lumio en attente"),
        ("Achetez des abonnés et des likes pas chers, livraison en 1 h ⚡ {url} #Lumio #SAV #fibre #marketing",
         "abonnes-pas-chers.example", "Boostez vos réseaux sociaux ⚡"),
        ("Félicitations ! Vous avez été tiré au sort pour recevoir une Lumio Box gratuite 🎉 Cliquez vite : {url}",
         "lumio-box-gratuite.example", "🎁 OFFRE EXCLUSIVE clients Lumio"),
        ("🚀 Airdrop $LUMIO en cours, connectez votre wallet avant minuit : {url} #crypto #web3 #Lumio",
         "lumio-airdrop.example", "Airdrop $LUMIO : dernières heures"),
        ("Gagnez 300 € par jour depuis chez vous, il suffit d'une connexion fibre Lumio 😉 Infos : {url}",
         "job-maison.example", "Travail à domicile, 300 €/jour"),
    ],
    "en": [
        ("🎁 WIN an iPhone 17! Lumio customers only, just {n_left} gifts left 👉 {url} #Lumio #giveaway",
         "lumio-gifts.example", "🎁 Lumio customer giveaway: win an iPhone 17"),
        ("Promo code {code} = {pct}% OFF Lumio Fibre for a whole year!!! Limited time ⏳ {url}",
         "lumio-codes.example", "Lumio promo codes November 2026: up to 90% off!"),
        ("Turned $300 into ${big} in 3 weeks with the QuantaYield trading bot 💸 DM me. #Lumio #broadband #bitcoin",
         "quantayield.example", "How I grew my savings 50x"),
        ("Your Lumio refund of €{refund} is pending. Verify your bank details here: {url}",
         "lumio-refunds.example", "Lumio refund pending"),
        ("Cheap followers & likes, delivered in 1 hour ⚡ {url} #Lumio #marketing #growth",
         "cheapfollows.example", "Grow your socials fast ⚡"),
        ("Congratulations! You've been selected for a FREE Lumio Box 🎉 Claim now: {url}",
         "free-lumio-box.example", "🎁 EXCLUSIVE offer for Lumio customers"),
        ("🚀 $LUMIO airdrop is LIVE, connect your wallet before midnight: {url} #crypto #web3",
         "lumio-airdrop.example", "$LUMIO airdrop: final hours"),
        ("Make $400/day from home, all you need is a Lumio fibre connection 😉 Details: {url}",
         "homejob-now.example", "Work from home, $400/day"),
    ],
}

EMOJI = {"negative": ["😡", "😤", "🙄", "😩", "🤬", "💀", "😞"], "positive": ["👍", "🙌", "😍", "✨", "🚀", "👏", "🧡"],
         "neutral": ["🤔", "📶", "📱", "👀"]}

# Replies -------------------------------------------------------------------

SAME_HERE = {
    "fr": ["pareil ici à {outage_city}, plus rien depuis ce matin.", "idem, box Lumio en rouge depuis {start}. 😩",
           "même chose chez moi, et le 3900 sonne dans le vide.", "toute la résidence est coupée aussi.",
           "chez nous aussi, quartier entier HS. Merci Lumio.", "pareil, et pas un SMS de Lumio pour prévenir."],
    "en": ["same here in {outage_city}, nothing since this morning.", "same, red light on the Lumio Box since {start_en}. 😩",
           "same for me, and the Lumio support line just rings out.", "whole building is down too.",
           "same on our side, the entire neighbourhood is offline.", "same, and not a single text from Lumio to warn us."],
}
CARE_REPLIES = {
    "fr": {"incident": ["Bonjour, un incident touche actuellement la fibre Lumio dans votre secteur et nos équipes sont mobilisées. Suivi en temps réel : " + STATUS_URL + " ^Mathieu",
                        "Bonjour, nous sommes vraiment désolés. L'incident est identifié et le rétablissement est en cours, secteur par secteur. ^Léa"],
           "dm": ["Bonjour, nous sommes désolés pour la gêne occasionnée. Pouvez-vous nous transmettre votre référence client Lumio en message privé ? On regarde ça tout de suite. ^Léa",
                  "Bonjour, je comprends votre agacement. Je vous envoie un message privé pour reprendre votre dossier. ^Inès",
                  "Bonjour, merci pour votre message. Un conseiller Lumio va vous recontacter aujourd'hui, pouvez-vous confirmer votre numéro en MP ? ^Yann"]},
    "en": {"incident": ["Hi, there is an ongoing incident affecting Lumio fibre in your area and our teams are on it. Live updates: " + STATUS_URL + " ^Sam",
                        "Hi, we're really sorry. The fault has been identified and service is being restored area by area. ^Sam"],
           "dm": ["Hi, sorry for the trouble. Could you DM us your Lumio customer reference? We'll look into it right away. ^Sam",
                  "Hi, we understand the frustration. We've sent you a DM so we can pick up your case. ^Ellie",
                  "Hi, thanks for flagging this. A Lumio advisor will call you back today, can you confirm your number by DM? ^Ellie"]},
}
ANSWERS = {
    "fr": {
        "guest_wifi": "c'est dans l'appli Lumio : Ma box > Wifi > Réseau invité. Pas très visible, je te l'accorde.",
        "wifi_pwd": "dans l'appli Lumio, onglet Ma box > Wifi, tu peux changer le mot de passe directement. Le wifi redémarre 30 secondes.",
        "bridge": "oui, via l'interface de la box (http://192.168.1.254) > Réseau > décocher « mode routeur ». Par contre la TV Lumio ne marche plus en bridge chez moi.",
        "pdf_bill": "espace client Lumio > Factures, il y a une petite icône PDF à droite de chaque ligne.",
        "esim": "appli Lumio > Ma ligne > Passer à l'eSIM, ils envoient un QR code. Cinq minutes sur mon Pixel.",
        "promo_end": "chez moi c'est passé de 24,99 € à 34,99 € après 12 mois, Lumio prévient par mail un mois avant.",
        "setup_fee": "aucun frais si tu souscris en ligne, 49 € en boutique Lumio il me semble.",
        "mobile_plan": "oui sans engagement, j'ai changé deux fois de forfait Lumio cette année sans frais.",
        "tv_box": "le décodeur est inclus dans l'offre Lumio Fibre + TV, sinon c'est 5 € par mois en option.",
        "roaming_eu": "oui, l'UE est incluse comme en France. J'étais en Espagne cet été avec Lumio Mobile sans rien payer de plus.",
        "roaming_noneu": "hors UE il faut prendre un pass voyage dans l'appli Lumio, sinon ça coûte une fortune. J'ai payé 15 € la semaine au Maroc.",
        "roaming_canada": "il faut activer l'option internationale dans l'appli Lumio avant de partir et prendre un pass data, le Canada n'est pas inclus.",
    },
    "en": {
        "guest_wifi": "it's in the Lumio app: My box > Wifi > Guest network. Not exactly easy to find.",
        "wifi_pwd": "Lumio app, My box > Wifi tab, you can change the password right there. Wifi restarts for about 30 seconds.",
        "bridge": "yes, through the box admin page (http://192.168.1.254) > Network > untick \"router mode\". Heads up, Lumio TV stopped working in bridge mode for me.",
        "pdf_bill": "Lumio customer area > Bills, there's a small PDF icon to the right of each line.",
        "esim": "Lumio app > My line > Switch to eSIM, they send a QR code. Took me five minutes.",
        "promo_end": "mine went from €24.99 to €34.99 after 12 months, Lumio emails you a month before.",
        "setup_fee": "no fee if you sign up online, I think it's €49 in a Lumio shop.",
        "mobile_plan": "yep, no contract. I've switched Lumio plans twice this year with no fee.",
        "tv_box": "the decoder is included in the Lumio Fibre + TV bundle, otherwise it's a €5/month add-on.",
        "roaming_eu": "yes, EU roaming works like at home. Used Lumio Mobile in Spain all summer, paid nothing extra.",
        "roaming_noneu": "outside the EU you need a travel pass from the Lumio app or it costs a fortune. I paid €15 for a week in Morocco.",
        "roaming_canada": "turn on the international option in the Lumio app before you go and grab a data pass, Canada isn't included.",
    },
}
THANKS = {"fr": ["merci, ça marche ! 🙏", "trouvé, merci beaucoup !", "super, merci pour l'info."],
          "en": ["that worked, thanks! 🙏", "found it, cheers!", "great, thanks for the tip."]}
SAME_ISSUE = {
    "fr": {"billing": ["pareil, double prélèvement Lumio en octobre, trois semaines pour être remboursé.", "mêmes frais de dossier sur ma facture Lumio, jamais eu d'explication."],
           "outage": ["même chose le soir chez moi, ça coupe vers 21 h tous les jours.", "pareil, le débit Lumio s'est effondré chez moi aussi depuis une semaine."],
           "support": ["je confirme, personne ne rappelle jamais chez Lumio.", "deux semaines pour moi, toujours aucune réponse au ticket."],
           "router": ["même souci depuis la mise à jour, la Lumio Box redémarre la nuit.", "chez moi aussi le 5 GHz a disparu. Lumio ne reconnaît même pas le bug."]},
    "en": {"billing": ["same, double Lumio debit in October, took three weeks to get refunded.", "same admin fee on my Lumio bill, never got an explanation."],
           "outage": ["same every evening here, drops around 9pm like clockwork.", "same, my Lumio speeds tanked this week too."],
           "support": ["can confirm, Lumio never calls back.", "two weeks for me, still no reply to my ticket."],
           "router": ["same since the update, my Lumio Box reboots every night.", "my 5 GHz band vanished too. Lumio won't even admit the bug."]},
}
CHURN_AGREE = {
    "fr": [("moi j'ai quitté Lumio le mois dernier, chez {competitor} depuis et aucun regret.", "negative", "other"),
           ("je suis à deux doigts de résilier aussi.", "negative", "churn_risk"),
           ("fais-le, c'est la seule chose qu'ils comprennent chez Lumio.", "negative", "other"),
           ("si ça continue je pars aussi, j'ai déjà regardé chez {competitor}.", "negative", "churn_risk")],
    "en": [("I left Lumio last month, been with {competitor} since and no regrets.", "negative", "other"),
           ("I'm this close to cancelling too.", "negative", "churn_risk"),
           ("do it, it's the only language Lumio understands.", "negative", "other"),
           ("if this carries on I'm out too, already looked at {competitor}.", "negative", "churn_risk")],
}
PURCHASE_ADVICE = {
    "fr": [("fonce, j'ai la fibre Lumio depuis un an à {city}, rien à redire.", "positive", "praise"),
           ("installation rapide chez moi et le débit est vraiment là, tu ne le regretteras pas.", "positive", "praise"),
           ("fuis… trois coupures ce mois-ci et un SAV Lumio injoignable.", "negative", "complaint"),
           ("vérifie bien la couverture avant, chez moi le réseau Lumio Mobile est catastrophique.", "negative", "complaint")],
    "en": [("go for it, had Lumio fibre for a year in {city}, zero complaints.", "positive", "praise"),
           ("quick install for me and the speeds are real, you won't regret it.", "positive", "praise"),
           ("run… three outages this month and Lumio support is unreachable.", "negative", "complaint"),
           ("check coverage first, Lumio Mobile signal is terrible where I live.", "negative", "complaint")],
}
PRAISE_AGREE = {
    "fr": [("pareil, très bonne expérience avec Lumio de mon côté aussi.", "positive", "praise"),
           ("je confirme, ils ont fait de vrais progrès cette année.", "positive", "praise"),
           ("ça fait plaisir à lire, ça change des coups de gueule 😄", "positive", "other"),
           ("même ressenti, rien à redire depuis que je suis chez Lumio.", "positive", "praise")],
    "en": [("same, really good experience with Lumio on my side too.", "positive", "praise"),
           ("agreed, they've genuinely improved this year.", "positive", "praise"),
           ("nice to read something positive for a change 😄", "positive", "other"),
           ("same here, no complaints since I joined Lumio.", "positive", "praise")],
}

# News & blogs ----------------------------------------------------------------

NEWS = [
    # (lang, kind, outlet key, title, text, pinned time or None)
    ("fr", "news", "telecoms-hebdo", "Fibre : Lumio revendique 182 000 nouveaux abonnés au troisième trimestre",
     "L'opérateur Lumio affirme avoir recruté 182 000 abonnés fibre entre juillet et septembre, porté par la Lumio Box et une offre d'entrée de gamme à 24,99 €. Zéphyr Télécom reste leader en volume, tandis qu'Arcadia Mobile continue de miser presque exclusivement sur le mobile. Les analystes s'interrogent sur la rentabilité de cette stratégie de prix.", None),
    ("fr", "news", "fil-numerique", "Arcadia Mobile casse les prix du forfait 100 Go",
     "Arcadia Mobile propose désormais 100 Go pour 9,99 € par mois sans engagement, une offre qui met la pression sur Lumio Mobile et Zéphyr Télécom. Aucun des deux concurrents n'a encore réagi officiellement. Les associations de consommateurs rappellent de vérifier les conditions de roaming avant de changer d'opérateur.", None),
    ("fr", "news", "reseaux-marches", "Lumio lance une offre fibre 8 Gb/s pour les professionnels",
     "Baptisée Lumio Pro Fibre, la nouvelle offre vise les PME avec un débit symétrique de 8 Gb/s, une garantie de rétablissement en 4 heures et une ligne de secours 5G. Elle sera commercialisée dans une vingtaine de métropoles à partir de janvier.", None),
    ("fr", "news", "telecoms-hebdo", "Satisfaction client : Lumio progresse, Zéphyr Télécom marque le pas",
     "Dans le baromètre annuel d'une association de consommateurs, Lumio gagne six points de satisfaction grâce à son application et à ses délais d'installation. Zéphyr Télécom recule, pénalisé par sa hausse de prix du printemps. Le service client reste le point faible de tous les opérateurs.", None),
    ("fr", "news", "reseaux-marches", "Zéphyr Télécom et Arcadia Mobile discutent d'un partage de réseau",
     "Selon nos informations, Zéphyr Télécom et Arcadia Mobile négocient un accord de mutualisation de leurs antennes dans les zones peu denses. Un tel rapprochement pourrait pénaliser Lumio, qui déploie seul son réseau mobile. Les deux opérateurs n'ont pas souhaité commenter.", None),
    ("fr", "news", "fil-numerique", "Box internet : notre comparatif de novembre",
     "Nous avons testé pendant trois semaines la Lumio Box, la Zéphyr Box 5 et l'Arcadia Home. La box de Lumio s'impose sur le débit et l'application, mais sa portée wifi reste en retrait. Zéphyr Télécom garde l'avantage sur le bouquet TV.", None),
    ("fr", "news", "telecoms-hebdo", "Roaming hors UE : ce que facturent vraiment les opérateurs",
     "États-Unis, Maroc, Suisse : nous avons comparé les tarifs de roaming de Lumio Mobile, Zéphyr Télécom et Arcadia Mobile. Les écarts vont parfois de 1 à 5 selon la destination. Lumio inclut désormais quelques pays hors UE dans ses forfaits haut de gamme.", None),
    ("fr", "news", "fil-numerique", "Déploiement de la fibre : les campagnes toujours à la traîne",
     "Malgré les annonces, près d'un foyer rural sur cinq attend encore la fibre. Lumio, Zéphyr Télécom et les réseaux d'initiative publique se renvoient la responsabilité des retards. Les élus locaux réclament un calendrier précis.", None),
    ("fr", "news", "lyon-matin", "Lumio veut recruter 300 techniciens fibre d'ici l'été",
     "Face à l'allongement des délais d'intervention, Lumio annonce 300 recrutements de techniciens, principalement en Auvergne-Rhône-Alpes et en Occitanie. L'opérateur promet de ramener à cinq jours le délai moyen de raccordement.", None),
    ("fr", "news", "lyon-matin", "Panne géante chez Lumio : des milliers d'abonnés privés de fibre",
     "Depuis ce matin, de nombreux abonnés Lumio de la région lyonnaise, de Grenoble et de Saint-Étienne n'ont plus accès à internet. L'opérateur évoque un « incident sur un équipement de cœur de réseau » et promet un retour progressif dans l'après-midi. Sur les réseaux sociaux, la colère monte.",
     dt.datetime(2026, 11, 12, 13, 20, 0, tzinfo=UTC)),
    ("fr", "news", "telecoms-hebdo", "Après la panne, Lumio promet un geste commercial",
     "Au lendemain de la panne qui a touché la fibre dans le quart sud-est, Lumio annonce un avoir équivalent à une semaine d'abonnement pour les clients concernés. L'opérateur attribue l'incident à une mise à jour logicielle défectueuse sur un routeur de cœur de réseau.",
     dt.datetime(2026, 11, 13, 9, 40, 0, tzinfo=UTC)),
    ("fr", "news", "reseaux-marches", "Forfaits mobiles : la guerre des prix reprend avant Noël",
     "Comme chaque fin d'année, les promotions se multiplient : Lumio Mobile double la data de son forfait 60 Go, Arcadia Mobile offre trois mois et Zéphyr Télécom mise sur les smartphones à 1 €. Les opérateurs cherchent à freiner la fuite d'abonnés vers les offres sans engagement.", None),
    ("en", "news", "broadband-ledger", "French challenger Lumio posts strongest fibre growth in the market",
     "Lumio said it signed up more fibre customers than any rival last quarter, helped by its entry-level Lumio Box bundle. Analysts at two brokerages warned the aggressive pricing could weigh on margins into 2027, while Zéphyr Télécom remains the largest player by subscribers.", None),
    ("en", "news", "eurotelco", "Arcadia Mobile undercuts rivals with €9.99 100GB plan",
     "The no-contract offer puts pressure on Lumio Mobile and Zéphyr Télécom, neither of which has responded publicly. Consumer groups are urging customers to check the roaming small print before switching.", None),
    ("en", "news", "eurotelco", "Lumio targets small businesses with symmetric 8Gbps fibre",
     "The new Lumio Pro Fibre tier comes with a four-hour repair guarantee and a 5G backup line. It launches in around twenty French cities in January, according to the company.", None),
    ("en", "news", "broadband-ledger", "Zéphyr Télécom and Arcadia Mobile discuss network sharing deal",
     "The two operators are reportedly negotiating to pool mobile masts in sparsely populated areas. Such a deal would leave Lumio as the only major operator building its rural network alone. Neither company would comment.", None),
    ("en", "news", "riviera-post", "Survey: Lumio climbs in customer satisfaction, Zéphyr slips",
     "An annual consumer survey credits Lumio's app and faster installation times for a six-point gain. Zéphyr Télécom lost ground after a spring price rise. Customer service remains the weakest area for every operator surveyed.", None),
    ("en", "news", "riviera-post", "What French carriers really charge for roaming outside the EU",
     "We compared Lumio Mobile, Zéphyr Télécom and Arcadia Mobile rates for the US, Morocco and Switzerland. The gap between the cheapest and the most expensive option can reach fivefold depending on the destination.", None),
    ("en", "news", "eurotelco", "Rural fibre rollout in France still lagging, report finds",
     "Nearly one rural household in five is still waiting for fibre despite repeated promises. Operators including Lumio and Zéphyr Télécom blame permitting delays; local officials want firm deadlines.", None),
    ("en", "news", "broadband-ledger", "Lumio fibre outage leaves thousands offline around Lyon and Grenoble",
     "Customers of French operator Lumio in the Lyon, Grenoble and Saint-Étienne areas lost fibre connectivity from shortly after 8am UTC. The company blamed a fault on core network equipment and said service was being restored gradually. Complaints flooded social media throughout the morning.",
     dt.datetime(2026, 11, 12, 13, 45, 0, tzinfo=UTC)),
    ("en", "news", "riviera-post", "Lumio to credit customers hit by fibre outage",
     "Lumio will credit affected subscribers the equivalent of one week's fee after this week's outage in south-east France. The operator said a faulty software update on a core router was to blame and promised a full post-incident report.",
     dt.datetime(2026, 11, 14, 8, 30, 0, tzinfo=UTC)),
    ("en", "news", "broadband-ledger", "Holiday mobile deals: French carriers go all-in on data",
     "Lumio Mobile is doubling data on its 60GB plan, Arcadia Mobile is giving away three months and Zéphyr Télécom is pushing €1 smartphones. The goal: stop customers drifting to no-contract offers before January.", None),
    ("fr", "blog", "geek-de-province", "Un mois avec la Lumio Box : mon bilan",
     "Débit au rendez-vous (940 Mb/s en filaire), application claire, mais un wifi qui peine à traverser deux murs porteurs. Pour un appartement de 50 m², c'est parfait ; au-delà, prévoyez un répéteur. Toutes mes mesures sont dans l'article.", None),
    ("fr", "blog", "maison-connectee", "Comment choisir son forfait mobile en 2026 ?",
     "Lumio Mobile, Zéphyr Télécom, Arcadia Mobile… Les offres se ressemblent, mais les détails font la différence : roaming, engagement, data réellement utile. Voici ma grille de lecture, sans aucun lien affilié.", None),
    ("fr", "blog", "geek-de-province", "Passer la Lumio Box en mode bridge avec un routeur maison",
     "Tutoriel pas à pas pour désactiver la partie routeur de la Lumio Box tout en gardant la TV. Testé sur le firmware 4.2 : les menus ont changé depuis la 4.0, méfiez-vous des vieux guides.", None),
    ("fr", "blog", "maison-connectee", "Télétravail à la campagne : mon parcours du combattant pour avoir la fibre",
     "Six mois d'attente, deux opérateurs sollicités et finalement une Lumio Fibre installée début novembre. Retour sur un raccordement qui en dit long sur l'état du déploiement en zone rurale.", None),
    ("en", "blog", "bonjour-broadband", "An expat's guide to French broadband: Lumio vs Zéphyr vs Arcadia",
     "Moved to France and drowning in box offers? I tried two of the three big options in my first year. Short version: Lumio had the better app and English-speaking support, Zéphyr the better TV package, and Arcadia only makes sense if you just need mobile. Full breakdown inside.", None),
    ("en", "blog", "bonjour-broadband", "Lumio Box review after 30 days",
     "Wired speeds are excellent (around 930 Mbps), the app is clean, but the wifi struggles through thick stone walls. Great for a flat, less so for an old farmhouse. Measurements and screenshots in the post.", None),
    ("en", "blog", "homelab-notes", "Running the Lumio Box in bridge mode with OPNsense",
     "Step-by-step notes on disabling the router side of the Lumio Box while keeping IPTV working. Tested on firmware 4.2; menus moved around since 4.0, so older guides are out of date.", None),
    ("en", "blog", "homelab-notes", "Is 5G home internet a real alternative to fibre in France?",
     "I spent a month on Arcadia Mobile's 5G box while waiting for my Lumio Fibre install. Latency was the giveaway: fine for streaming, painful for gaming and video calls.", None),
]
OUTLETS = {  # key: (domain, journalist display, handle, followers)
    "telecoms-hebdo": ("telecoms-hebdo.example", "Camille Vasseur · Telecoms Hebdo", "camille.vasseur", 84200),
    "fil-numerique": ("lefilnumerique.example", "Julien Ferrand · Le Fil Numérique", "jferrand", 41300),
    "reseaux-marches": ("reseaux-marches.example", "Nadia Chérif · Réseaux & Marchés", "nadia.cherif", 12800),
    "lyon-matin": ("lyon-matin.example", "Pierre-Yves Lamotte · Lyon Matin", "pylamotte", 23600),
    "broadband-ledger": ("broadbandledger.example", "Oliver Grant · The Broadband Ledger", "olivergrant", 118000),
    "eurotelco": ("eurotelco-weekly.example", "Hannah Cole · EuroTelco Weekly", "hcole", 36900),
    "riviera-post": ("riviera-post.example", "Daniel Osei · The Riviera Post", "dosei", 9400),
    "geek-de-province": ("geekdeprovince.example", "Geek de Province", "geekdeprovince", 6100),
    "maison-connectee": ("maison-connectee.example", "Maison Connectée", "maisonconnectee", 2700),
    "bonjour-broadband": ("bonjour-broadband.example", "Bonjour Broadband", "bonjourbroadband", 3900),
    "homelab-notes": ("homelab-notes.example", "homelab notes", "homelabnotes", 1500),
}

# --------------------------------------------------------------------------- CRM

OWNERS = [
    ("Claire Dubois", "claire.dubois@lumio.example"),
    ("Thomas Lefebvre", "thomas.lefebvre@lumio.example"),
    ("Amina Benali", "amina.benali@lumio.example"),
    ("Hugo Marchand", "hugo.marchand@lumio.example"),
    ("Sarah Whitfield", "sarah.whitfield@lumio.example"),
]
FR_SMB = ["Boulangerie Morel", "Atelier Verdier", "Cabinet Roche, Vidal & Associés", "Garage des Tilleuls",
          "Pharmacie Rousseau", "Agence Kerbrat Immobilier", "Studio Ombre & Lumière", "Fromagerie Chevalier",
          "Plomberie Gauthier & Fils", "Cave Le Tonneau", "Librairie La Page Blanche", "Cabinet Dentaire Mercier",
          "Brasserie du Vieux Port", "Menuiserie Besnard"]
EN_SMB = ["Northgate Analytics Ltd", "Bramble & Finch Design", "Harbourside Dental", "Copperleaf Coffee Roasters",
          "Kestrel Logistics", "Wrenfield Accounting"]
FR_ENT = ["Groupe Hexagone Distribution", "Transports Valmont", "Clinique Saint-Aubin",
          "Société Alpine de Remontées", "Hôtels Beaurivage", "Cimenteries Rhodaniennes"]
EN_ENT = ["Albion Retail Group", "Meridian Freight plc", "Thornbury Health Partners", "Lakeside Software Holdings"]
CONSUMER_DOMAINS = {"fr": ["courriel.example", "boitemail.test", "monmail.example", "postbox.test"],
                    "en": ["inbox.example", "postbox.test", "mailhub.example"]}
STOP_WORDS = {"ltd", "plc", "societe", "groupe", "de", "des", "du", "la", "le", "fils", "associes"}


def company_domain(company: str) -> str:
    words = [w for w in slugify(company).split("-") if w and w not in STOP_WORDS]
    return "-".join(words[:3]) + ".example"


def email_local(first: str, last: str) -> str:
    return f"{name_token(first)}.{name_token(last)}"


def build_customers() -> list[dict]:
    specs = ([("consumer", "fr", "")] * 20 + [("consumer", "en", "")] * 10
             + [("smb", "fr", c) for c in FR_SMB] + [("smb", "en", c) for c in EN_SMB]
             + [("enterprise", "fr", c) for c in FR_ENT] + [("enterprise", "en", c) for c in EN_ENT])
    RNG.shuffle(specs)
    locked: set[int] = set()

    def force(pos: int, segment: str, lang: str) -> None:
        if not (specs[pos][0] == segment and specs[pos][1] == lang):
            j = next(j for j, s in enumerate(specs) if s[0] == segment and s[1] == lang and j not in locked and j != pos)
            specs[pos], specs[j] = specs[j], specs[pos]
        locked.add(pos)

    for pos in DUP_EMAIL_POSITIONS + (INVALID_EMAIL_POSITION,):
        force(pos, "consumer", "fr")
    force(NO_OWNER_POSITION, "smb", "fr")

    handle_p = {"consumer": (0.40, 0.45, 0.45), "smb": (0.35, 0.40, 0.25), "enterprise": (0.20, 0.35, 0.10)}
    customers = []
    for i, (segment, lang, company) in enumerate(specs):
        if i == DUP_EMAIL_POSITIONS[0]:
            first, last = "Nicolas", "Garnier"
        elif i == DUP_EMAIL_POSITIONS[1]:
            first, last = "Élodie", "Garnier"
        elif i == INVALID_EMAIL_POSITION:
            first, last = "Marc", "Dupont"
        else:
            first, last = new_name(lang)
        if i in DUP_EMAIL_POSITIONS:
            email = "famille.garnier@courriel.example"
        elif i == INVALID_EMAIL_POSITION:
            email = "marc.dupont@"
        elif company:
            email = f"{email_local(first, last)}@{company_domain(company)}"
        else:
            email = f"{email_local(first, last)}{pick(['', '', str(RNG.randint(1, 99))])}@{pick(CONSUMER_DOMAINS[lang])}"
        if lang == "fr":
            if segment == "enterprise" and chance(0.5):
                phone = f"+33 1 99 00 {RNG.randint(0, 99):02d} {RNG.randint(0, 99):02d}"
            else:
                phone = f"+33 6 39 98 {RNG.randint(0, 99):02d} {RNG.randint(0, 99):02d}"
        else:
            phone = f"+44 7700 900{RNG.randint(0, 999):03d}"
        pm, pb, pr = handle_p[segment]
        mastodon = mastodon_handle(first, last) if chance(pm) else ""
        bluesky = bluesky_handle(first, last) if chance(pb) else ""
        reddit = reddit_handle(first, last, lang) if chance(pr) else ""
        if segment == "consumer":
            value = RNG.randint(300, 1500)
        elif segment == "smb":
            value = RNG.randrange(2000, 30001, 50)
        else:
            value = RNG.randrange(50000, 900001, 500)
        if i == NO_OWNER_POSITION:
            owner = ("", "")
        elif lang == "en":
            owner = OWNERS[4] if chance(0.8) else pick(OWNERS[:4])
        elif segment == "enterprise":
            owner = pick(OWNERS[:2])
        else:
            owner = pick(OWNERS[:4])
        customers.append({
            "customer_id": f"C-{1001 + i}", "first_name": first, "last_name": last, "company": company,
            "email": email, "phone": phone, "mastodon": mastodon, "bluesky": bluesky, "reddit": reddit,
            "segment": segment, "account_value": value, "owner_name": owner[0], "owner_email": owner[1],
            "language": lang,
        })
    return customers


# --------------------------------------------------------------------------- authors

def social_followers(kind: str = "person") -> int:
    if kind == "influencer":
        return RNG.randint(30000, 250000)
    mu = {"person": 4.6, "consumer": 4.3, "smb": 5.6, "enterprise": 6.3}[kind]
    return max(3, min(20000, int(RNG.lognormvariate(mu, 1.2))))


def make_author(platform: str, lang: str, handle: str, display: str, followers, kind: str, customer_id=None) -> dict:
    if platform == "mastodon":
        aid = str(RNG.randrange(109_000_000_000_000_000, 113_999_999_999_999_999))
    elif platform == "bluesky":
        aid = did_plc()
    elif platform == "reddit":
        aid = reddit_t2()
    elif platform == "forum":
        aid = f"forum:{RNG.randint(1000, 98000)}"
    elif platform == "reviews":
        aid = f"rev:{RNG.randint(100000, 999999)}"
    else:
        aid = f"{platform}:{handle}"
    return {"platform": platform, "lang": lang, "id": aid, "handle": handle, "display_name": display,
            "followers": followers, "kind": kind, "customer_id": customer_id,
            "weight": min(4.0, RNG.paretovariate(2.5))}


PSEUDOS = {
    "fr": [("zebulon", "Zébulon 🚲"), ("fibrenoire", "Fibre Noire"), ("mamienet", "Mamie Net"), ("loutre_urbaine", "Loutre urbaine 🦦"),
           ("pixel_sauvage", "Pixel Sauvage"), ("lechatgris", "Le Chat Gris"), ("radis_rose", "Radis Rose"), ("ptit_geek", "P'tit Geek"),
           ("canard_masque", "Le Canard Masqué"), ("brocolidu69", "Brocoli du 69")],
    "en": [("nightowl", "night owl 🦉"), ("bytesized", "Byte Sized"), ("quietcoder", "quiet coder"), ("tea_and_fibre", "Tea & Fibre ☕"),
           ("packetloss", "Packet Loss"), ("sundaypilot", "Sunday Pilot"), ("mossy_stone", "mossy stone"), ("lyon_expat", "Lyon Expat")],
}
FORUM_PSEUDOS = {"fr": ["Zebulon38", "fibre_addict", "MamieNet42", "Kiwi_du_13", "TonTonBox", "Grenouille74", "le_bricoleur", "Nono_Rennes"],
                 "en": ["expat_dave", "LyonBrit", "quiet_dan", "KettleOn", "Routerman"]}
INFLUENCERS = [
    ("mastodon", "fr", "leotech@masto-fr.example", "Léo Tech 📱", 248600),
    ("bluesky", "fr", "clementine-numerique.bsky.social", "Clémentine · numérique", 61200),
    ("mastodon", "fr", "journal_du_geek@social.example", "Le Journal du Geek (fictif)", 132000),
    ("bluesky", "en", "gadgetgrace.bsky.social", "Gadget Grace", 98400),
    ("mastodon", "en", "eurotechtom@toot.example", "Tom · EuroTech", 45700),
    ("bluesky", "en", "francefiles.bsky.social", "The France Files", 37200),
]


def build_authors(customers: list[dict]):
    pools: dict[tuple[str, str], list[dict]] = defaultdict(list)  # (platform, lang) -> non-customer people
    customer_authors: dict[str, list[dict]] = defaultdict(list)   # customer_id -> one author per platform
    for c in customers:
        seg = c["segment"]
        for platform in ("mastodon", "bluesky", "reddit"):
            if c[platform]:
                display = c[platform] if platform == "reddit" else f"{c['first_name']} {c['last_name']}"
                author = make_author(platform, c["language"], c[platform], display, social_followers(seg), "customer",
                                     c["customer_id"])
                author["segment"] = seg
                customer_authors[c["customer_id"]].append(author)

    sizes = {("mastodon", "fr"): 14, ("mastodon", "en"): 10, ("bluesky", "fr"): 12, ("bluesky", "en"): 12,
             ("reddit", "fr"): 10, ("reddit", "en"): 10}
    pseudo_iter = {lang: iter(RNG.sample(PSEUDOS[lang], len(PSEUDOS[lang]))) for lang in ("fr", "en")}
    for (platform, lang), n in sizes.items():
        for _ in range(n):
            first, last = new_name(lang)
            pseudo = next(pseudo_iter[lang], None) if chance(0.3) else None
            if platform == "mastodon":
                handle = claim(f"{pseudo[0]}@{pick(MASTO_INSTANCES)}") if pseudo else None
                handle = handle or mastodon_handle(first, last)
                display = pseudo[1] if pseudo else f"{first} {last}"
            elif platform == "bluesky":
                handle = claim(f"{pseudo[0].replace('_', '-')}.bsky.social") if pseudo else None
                handle = handle or bluesky_handle(first, last)
                display = pseudo[1] if pseudo else (f"{first} {last}" + pick(["", "", "", " 🌿", " ☕", " 🎧"]))
            else:
                handle = reddit_handle(first, last, lang)
                display = handle
            pools[(platform, lang)].append(make_author(platform, lang, handle, display, social_followers(), "person"))
    for platform, lang, handle, display, followers in INFLUENCERS:
        claim(handle)
        a = make_author(platform, lang, handle, display, followers, "influencer")
        a["weight"] = 1.2
        pools[(platform, lang)].append(a)
    for lang, n_forum, n_rev in (("fr", 8, 8), ("en", 5, 6)):
        for handle in FORUM_PSEUDOS[lang][:n_forum]:
            claim(handle)
            pools[("forum", lang)].append(make_author("forum", lang, handle, handle, None, "person"))
        for _ in range(n_rev):
            first, last = new_name(lang)
            handle = claim(f"{name_token(first)}_{name_token(last)[0]}{RNG.randint(10, 99)}") or f"{name_token(first)}{RNG.randint(100, 999)}"
            pools[("reviews", lang)].append(make_author("reviews", lang, handle, f"{first} {last[0]}.", None, "person"))

    outlets = {}
    for key, (domain, display, handle, followers) in OUTLETS.items():
        claim(handle)
        kind = "blog" if key in ("geek-de-province", "maison-connectee", "bonjour-broadband", "homelab-notes") else "news"
        a = make_author(kind, "", handle, display, followers, "press")
        a["id"] = f"{kind}:{domain}/{handle}"
        a["domain"] = domain
        outlets[key] = a

    care = {
        "mastodon": make_author("mastodon", "", claim("LumioCare@social.lumio.example"), "Lumio Care 🧡", 18400, "care"),
        "bluesky": make_author("bluesky", "", claim("lumiocare.bsky.social"), "Lumio Care", 9700, "care"),
    }
    spam = [
        make_author("mastodon", "", claim("cryptogains4u@toot.example"), "Crypto Gains 💸", 212, "spam"),
        make_author("mastodon", "", claim("bonsplans_fibre@pouet.example"), "Bons Plans Fibre", 57, "spam"),
        make_author("bluesky", "", claim("deals-du-jour.bsky.social"), "Deals du jour 🔥", 388, "spam"),
        make_author("bluesky", "", claim("yield-master-88.bsky.social"), "Yield Master", 14, "spam"),
        make_author("reddit", "", claim("FreeGiftCards_2026"), "FreeGiftCards_2026", 3, "spam"),
        make_author("reddit", "", claim("QuantaYieldOfficial"), "QuantaYieldOfficial", 9, "spam"),
        make_author("forum", "", claim("promo_admin"), "promo_admin", None, "spam"),
        make_author("blog", "", claim("codes-promo-malins"), "Codes Promo Malins", 140, "spam"),
    ]
    spam[-1]["domain"] = "codes-promo-malins.example"
    return pools, customer_authors, outlets, care, spam


def choose_author(pools, platform: str, lang: str, exclude=None) -> dict:
    cands = [a for a in pools[(platform, lang)] if a is not exclude]
    if not cands:
        other = "en" if lang == "fr" else "fr"
        cands = [a for a in pools[(platform, other)] if a is not exclude]
    chosen = RNG.choices(cands, weights=[a["weight"] for a in cands])[0]
    chosen["weight"] *= 0.6  # the same person rarely posts a dozen times a month
    return chosen


# --------------------------------------------------------------------------- time

DAYS = [WINDOW_START + dt.timedelta(days=i) for i in range(30)]
DAY_W = [1.0 if d.weekday() < 5 else (0.6 if d.weekday() == 5 else 0.5) for d in DAYS]
HOUR_W = [0.15, 0.1, 0.08, 0.08, 0.1, 0.25, 0.5, 0.8, 1.0, 1.0, 1.0, 1.0,
          1.1, 1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.2, 1.1, 0.8, 0.5, 0.3]
OFFICE_HOUR_W = [0.0] * 5 + [0.4, 0.8, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7, 0.9, 0.9, 0.8, 0.6, 0.4] + [0.0] * 6


def random_time(office: bool = False) -> dt.datetime:
    day_w = [w if (not office or d.weekday() < 5) else 0.0 for d, w in zip(DAYS, DAY_W, strict=True)]
    day = RNG.choices(DAYS, weights=day_w)[0]
    hour = RNG.choices(range(24), weights=OFFICE_HOUR_W if office else HOUR_W)[0]
    return day + dt.timedelta(hours=hour, minutes=RNG.randrange(60), seconds=RNG.randrange(60))


def spike_time() -> dt.datetime:
    hours = RNG.triangular(8.1, 13.95, 9.8)
    return SPIKE_START.replace(hour=0) + dt.timedelta(seconds=int(hours * 3600))


# --------------------------------------------------------------------------- text generators

SOCIAL = ("mastodon", "bluesky")
LONG_FORM = ("reddit", "forum", "reviews")
SEEN_TEXTS: set[str] = set()


def fmt(s: str, slots: dict) -> str:
    return s.format(**slots)


def decorate(text: str, lang: str, platform: str, sentiment: str, tags: list[str] | None,
             p_tags: float = 0.4, p_emoji: float = 0.3, url: str | None = None) -> str:
    if platform == "reviews":
        return text
    if url:
        text += " " + url
    if chance(p_emoji if platform in SOCIAL else p_emoji / 4):
        text += " " + pick(EMOJI[sentiment]) * pick([1, 1, 1, 2])
    if tags and platform in SOCIAL and chance(p_tags):
        text += " " + " ".join(RNG.sample(tags, RNG.randint(1, min(3, len(tags)))))
    return text


def n_extras(platform: str) -> int:
    if platform in LONG_FORM:
        return pick([1, 1, 2])
    if platform == "mastodon":
        return 1 if chance(0.25) else 0
    return 0


def stars(sentiment: str) -> str:
    if sentiment == "negative":
        return pick(["★☆☆☆☆", "★☆☆☆☆", "★★☆☆☆"])
    if sentiment == "positive":
        return pick(["★★★★★", "★★★★★", "★★★★☆"])
    return "★★★☆☆"


def build_post(lang, platform, core, openers, closers, extras_pool, slots, sentiment, tags,
               p_open=0.5, p_close=0.5, p_tags=0.4, p_emoji=0.3, url=None):
    opener = fmt(pick(openers[lang]), slots) if chance(p_open) else ""
    closer = fmt(pick(closers[lang]), slots) if chance(p_close) else ""
    k = n_extras(platform) if extras_pool else 0
    extras = [fmt(e, slots) for e in RNG.sample(extras_pool[lang], k)] if k else []
    text = join_parts(opener, fmt(core, slots), extras, closer)
    text = decorate(text, lang, platform, sentiment, tags[lang] if tags else None, p_tags, p_emoji, url)
    if platform == "reviews":
        text = f"{stars(sentiment)} {text}"
    return text


def gen_complaint(lang, platform, slots, sub=None):
    sub = sub or pick(["billing", "billing", "outage", "support", "support", "router"])
    url = f"https://img.example/{''.join(pick(B36) for _ in range(10))}.png" if chance(0.08) else None
    core = pick_balanced(COMPLAINT[lang][sub])
    tags = {lg: COMPLAINT_TAGS[lg] + COMPLAINT_SUB_TAGS[lg][sub] for lg in ("fr", "en")}
    extras = COMPLAINT_EXTRAS
    if sub in ("outage", "router"):
        extras = {lg: COMPLAINT_EXTRAS[lg] + TECH_EXTRAS[lg] for lg in ("fr", "en")}
    text = build_post(lang, platform, core, COMPLAINT_OPENERS, COMPLAINT_CLOSERS,
                      extras, slots, "negative", tags, p_open=0.45, p_close=0.5, url=url)
    title = pick(COMPLAINT_TITLES[lang][sub]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment="negative", intent="complaint", sub=sub, core=core)


def gen_spike(lang, platform, slots, when):
    slots["hours"] = max(1, int((when - OUTAGE_BEGAN).total_seconds() // 3600))
    slots["hours_en"] = "an hour" if slots["hours"] == 1 else f"{slots['hours']} hours"
    url = STATUS_URL if chance(0.15) else None
    tags = {lg: SPIKE_TAGS[lg] + ["#" + ascii_fold(slots["outage_city"]).replace("-", "")] for lg in ("fr", "en")}
    core = pick_balanced(SPIKE[lang])
    text = build_post(lang, platform, core, SPIKE_OPENERS, SPIKE_CLOSERS, None, slots,
                      "negative", tags, p_open=0.35, p_close=0.4, p_tags=0.6, p_emoji=0.45, url=url)
    title = None
    if platform in ("forum", "reviews"):
        title = pick(["Panne fibre en cours ?", "Panne générale région lyonnaise", "Plus de fibre depuis ce matin"]) if lang == "fr" \
            else pick(["Fibre outage right now?", "Outage around Lyon", "No fibre since this morning"])
    return dict(title=title, text=text, sentiment="negative", intent="complaint", sub="outage", core=core)


def gen_praise(lang, platform, slots, restore=False):
    core = pick_balanced(PRAISE_RESTORE[lang] if restore else PRAISE[lang])
    text = build_post(lang, platform, core, PRAISE_OPENERS, PRAISE_CLOSERS, None if restore else PRAISE_EXTRAS,
                      slots, "positive", PRAISE_TAGS, p_open=0.0 if restore else 0.45, p_close=0.5)
    title = pick(PRAISE_TITLES[lang]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment="positive", intent="praise", sub="restore" if restore else None, core=core)


def gen_question(lang, platform, slots):
    core, topic, kind = pick_balanced(QUESTION[lang])
    url = None
    if chance(0.06):
        url = pick(["https://lumio.example/aide/box", "https://lumio.example/offres/mobile"]) if lang == "fr" \
            else pick(["https://lumio.example/en/help/box", "https://lumio.example/en/plans/mobile"])
    extras = {lg: QUESTION_EXTRAS[lg][kind] for lg in ("fr", "en")}
    text = build_post(lang, platform, core, QUESTION_OPENERS, QUESTION_CLOSERS, extras, slots,
                      "neutral", {lg: QUESTION_TAGS[lg][kind] for lg in ("fr", "en")}, p_open=0.5, p_close=0.5, p_emoji=0.1, url=url)
    title = pick(QUESTION_TITLES[lang][kind]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment="neutral", intent="question", sub=kind, topic=topic, core=core)


def gen_purchase(lang, platform, slots):
    core, sentiment = pick_balanced(PURCHASE[lang])
    url = (pick(["https://lumio.example/offres/fibre", "https://lumio.example/offres/famille"]) if lang == "fr"
           else pick(["https://lumio.example/en/plans/fibre", "https://lumio.example/en/plans/family"])) if chance(0.1) else None
    if core.startswith(BUSINESS_PREFIXES):
        extras = BUSINESS_EXTRAS
    elif core.startswith(NEW_ONLY_PREFIXES):
        extras = {lg: PURCHASE_EXTRAS[lg] + SWITCHER_EXTRAS[lg] for lg in ("fr", "en")}
    else:
        extras = PURCHASE_EXTRAS
    text = build_post(lang, platform, core, PURCHASE_OPENERS, PURCHASE_CLOSERS, extras, slots,
                      sentiment, PURCHASE_TAGS, p_open=0.35, p_close=0.45, url=url)
    title = pick(PURCHASE_TITLES[lang]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment=sentiment, intent="purchase", core=core)


def gen_churn(lang, platform, slots):
    core = pick_balanced(CHURN[lang])
    text = build_post(lang, platform, core, CHURN_OPENERS, CHURN_CLOSERS, COMPLAINT_EXTRAS, slots,
                      "negative", CHURN_TAGS, p_open=0.4, p_close=0.45)
    title = pick(CHURN_TITLES[lang]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment="negative", intent="churn_risk", core=core)


def gen_competitor(lang, platform, slots):
    core, sentiment, intent = pick_balanced(COMPETITOR[lang])
    said = fmt(core, slots)
    extra_tags = (["#ZéphyrTélécom"] if re.search("z[ée]phyr", said, re.I) else []) + (["#ArcadiaMobile"] if "Arcadia" in said else [])
    tags = {lg: COMPETITOR_TAGS[lg] + extra_tags for lg in ("fr", "en")}
    text = build_post(lang, platform, core, COMPETITOR_OPENERS, COMPETITOR_CLOSERS, None, slots, sentiment,
                      tags, p_open=0.15, p_close=0.25 if intent != "question" else 0.0, p_emoji=0.2)
    title = pick(COMPETITOR_TITLES[lang]) if platform in ("forum", "reviews") else None
    return dict(title=title, text=text, sentiment=sentiment, intent=intent, core=core, competitor=True)


def gen_chatter(lang, platform, slots):
    core, sentiment = pick_balanced(CHATTER[lang])
    text = build_post(lang, platform, core, {"fr": [""], "en": [""]}, {"fr": [""], "en": [""]}, None, slots,
                      sentiment, CHATTER_TAGS, p_open=0, p_close=0, p_tags=0.5, p_emoji=0.3)
    return dict(title=None, text=text, sentiment=sentiment, intent="other", core=core)


SPAM_USED: set[tuple[str, int]] = set()


def gen_spam(lang, platform, slots):
    free = [i for i in range(len(SPAM[lang])) if (lang, i) not in SPAM_USED] or list(range(len(SPAM[lang])))
    i = pick(free)
    SPAM_USED.add((lang, i))
    tmpl, domain, spam_title = SPAM[lang][i]
    url = f"https://{domain}/{pick(['win', 'go', 'r', 'promo', 'claim', 'x'])}/{''.join(pick(B36) for _ in range(6))}"
    text = tmpl.format(url=url, n_left=RNG.randint(7, 49), code=f"LUMIO{RNG.randint(20, 99)}", pct=pick([70, 80, 90]),
                       big=f"{RNG.randint(6, 19)}{pick(['000', '500'])}", refund=pick(["47,20", "89,99", "132,50"]) if lang == "fr"
                       else pick(["47.20", "89.99", "132.50"]))
    title = spam_title if platform in ("forum", "blog") else None
    return dict(title=title, text=text, sentiment="neutral", intent="spam", core=tmpl)


AUTHOR_CORES: set[tuple[str, str]] = set()
# Templates that only make sense for someone who is not yet a Lumio customer ...
NEW_ONLY_PREFIXES = (
    "je vais prendre la fibre Lumio", "on emménage", "la fibre vient d'arriver", "après {n_years} ans chez",
    "mon voisin a la Lumio", "simulation faite", "je dois reconnaître que la Zéphyr",
    "thinking of switching to Lumio", "moving to {city}", "fibre finally reached", "after {n_years} years with",
    "my neighbour has Lumio", "ran the numbers", "got to admit the Zéphyr",
)
# ... and templates that speak for a business (kept away from consumer contacts).
BUSINESS_PREFIXES = (
    "devis demandé", "on ouvre une deuxième boutique", "on va ajouter la ligne de secours", "nous ne renouvellerons pas",
    "toute l'équipe est bloquée", "asked Lumio Business", "opening a second shop", "we're adding the Lumio Business",
    "we won't be renewing", "whole office down",
)


def fits_author(out: dict, author: dict | None) -> bool:
    """Keep a CRM contact's posts consistent with being an existing Lumio customer of their segment."""
    if not author or author.get("kind") != "customer":
        return True
    core = out.get("core", "")
    if core.startswith(NEW_ONLY_PREFIXES):
        return False
    if author.get("segment") == "consumer" and core.startswith(BUSINESS_PREFIXES):
        return False
    if out.get("competitor") and out["intent"] in ("praise", "complaint"):
        return False  # a Lumio customer ranting or raving about a rival would blur the customer alerts
    return True


def unique(gen, *args, author=None, **kwargs) -> dict:
    """A text nobody else wrote, and a template this author has not used yet."""
    for _ in range(200):
        out = gen(*args, **kwargs)
        key = ((author or {}).get("handle", ""), out.get("core", ""))
        if out["text"] not in SEEN_TEXTS and (author is None or key not in AUTHOR_CORES) and fits_author(out, author):
            SEEN_TEXTS.add(out["text"])
            AUTHOR_CORES.add(key)
            return out
    raise RuntimeError(f"could not produce a unique text with {gen.__name__}")


# --------------------------------------------------------------------------- URLs

REDDIT_SUBS = {"fr": ["france", "telecom_fr", "AskFrance", "fibreoptique", "lyon"],
               "en": ["expats_france", "HomeNetworking", "europe_telecom", "AskEurope", "homelab"]}
FORUM_DOMAIN = {"fr": "forum.fibre-et-box.example", "en": "community.frenchbroadband.example"}
REVIEWS_BASE = {"fr": "https://avis-operateurs.example/lumio/avis/", "en": "https://reviewhub.example/companies/lumio/reviews/"}


def rand36(n: int) -> str:
    return "".join(pick(B36) for _ in range(n))


def make_url(m: dict) -> str:
    p, a, t = m["platform"], m["author"], m["time"]
    root = m.get("root")
    if p == "mastodon":
        user, instance = mastodon_user_instance(a["handle"])
        return f"https://{instance}/@{user}/{(int(t.timestamp() * 1000) << 16) + RNG.randrange(65536)}"
    if p == "bluesky":
        return f"https://bsky.example/profile/{a['handle']}/post/3l{''.join(pick(B32) for _ in range(11))}"
    if p == "reddit":
        if root is not None:
            return f"https://reddit.example/r/{root['_sub']}/comments/{root['_post']}/{root['_slug']}/{rand36(7)}/"
        sub = pick(["lyon", "expats_france"]) if m["cat"] == "outage_spike" and chance(0.5) else pick(REDDIT_SUBS[m["lang"]])
        m["_sub"], m["_post"], m["_slug"] = sub, rand36(6), slugify(m["text"], 40)
        return f"https://reddit.example/r/{sub}/comments/{m['_post']}/{m['_slug']}/"
    if p == "forum":
        if root is not None:
            root["_posts"] += 1
            return f"{root['_topic']}/{root['_posts']}"
        m["_topic"] = f"https://{FORUM_DOMAIN[m['lang']]}/t/{slugify(m['title'] or m['text'], 50)}/{RNG.randint(10000, 99999)}"
        m["_posts"] = 1
        return m["_topic"]
    if p == "reviews":
        return REVIEWS_BASE[m["lang"]] + str(RNG.randint(100000, 999999))
    if p in ("news", "blog"):
        domain = a["domain"]
        if p == "news":
            return f"https://{domain}/{t:%Y/%m/%d}/{slugify(m['title'])}"
        return f"https://{domain}/{t:%Y/%m}/{slugify(m['title'])}/"
    raise ValueError(p)


# --------------------------------------------------------------------------- engagement

def engagement(m: dict) -> dict:
    p, f, cat = m["platform"], m["author"]["followers"], m["cat"]
    if m["intent"] == "spam":
        return {"likes": RNG.randint(0, 3), "replies": RNG.randint(0, 1), "shares": RNG.randint(0, 4)}
    if p == "reviews":
        return {"likes": RNG.randint(0, 30), "replies": pick([0, 0, 0, 1]), "shares": 0}
    if p == "forum":
        return {"likes": RNG.randint(0, 18), "replies": RNG.randint(0, 9), "shares": 0}
    base = (f or 100) ** 0.45
    mult = {"outage_spike": 1.8, "churn": 1.3, "complaint": 1.2, "news": 1.6}.get(cat, 1.0)
    if p == "reddit":
        base *= 1.6
    if m.get("parent") is not None:
        base *= 0.35
    likes = int(base * mult * RNG.lognormvariate(-0.3, 0.8))
    replies = int(likes * RNG.uniform(0.03, 0.3)) + (1 if chance(0.25) else 0)
    shares = int(likes * RNG.uniform(0.0, 0.35) * (1.4 if m["sentiment"] == "negative" else 1.0))
    if p == "reddit":
        shares = shares // 5
    return {"likes": likes, "replies": replies, "shares": shares}


# --------------------------------------------------------------------------- main assembly

BASE_COUNTS = {"outage_spike": 32, "complaint": 55, "praise": 42, "question": 38, "purchase": 30,
               "churn": 24, "competitor": 28, "chatter": 12, "spam": 15}
CUSTOMER_ALLOC = {"outage_spike": 5, "complaint": 9, "churn": 6, "purchase": 7, "praise": 8,
                  "question": 6, "competitor": 2, "chatter": 2}
PLATFORM_W = {
    "outage_spike": {"mastodon": 35, "bluesky": 30, "reddit": 15, "forum": 15, "reviews": 5},
    "complaint": {"mastodon": 25, "bluesky": 22, "reddit": 18, "forum": 15, "reviews": 20},
    "praise": {"mastodon": 25, "bluesky": 25, "reddit": 10, "forum": 10, "reviews": 30},
    "question": {"mastodon": 25, "bluesky": 20, "reddit": 25, "forum": 30},
    "purchase": {"mastodon": 25, "bluesky": 25, "reddit": 30, "forum": 20},
    "churn": {"mastodon": 30, "bluesky": 25, "reddit": 15, "reviews": 20, "forum": 10},
    "competitor": {"mastodon": 30, "bluesky": 30, "reddit": 25, "forum": 15},
    "chatter": {"mastodon": 40, "bluesky": 45, "reddit": 15},
}
SPAM_PLATFORM_W = {"mastodon": 30, "bluesky": 30, "reddit": 15, "forum": 15, "blog": 10}
GENERATORS = {"complaint": gen_complaint, "praise": gen_praise, "question": gen_question, "purchase": gen_purchase,
              "churn": gen_churn, "competitor": gen_competitor, "chatter": gen_chatter}


def weighted(d: dict) -> str:
    keys = list(d)
    return RNG.choices(keys, weights=[d[k] for k in keys])[0]


def new_mention(cat, lang, platform, author, when, content, parent=None, root=None, customer_id=None) -> dict:
    return {"cat": cat, "lang": lang, "platform": platform, "author": author, "time": when,
            "title": content["title"], "text": content["text"], "sentiment": content["sentiment"],
            "intent": content["intent"], "sub": content.get("sub"), "topic": content.get("topic"),
            "parent": parent, "root": root, "customer_id": customer_id, "children": 0}


def build_mentions(customers, pools, customer_authors, outlets, care, spam_authors) -> list[dict]:
    mentions: list[dict] = []

    # Customer slots: 28 distinct customers with a handle write 45 mentions. Unhappy ones write the
    # complaints / outage posts / churn threats, the others the praise, questions and upsell intent.
    with_handles = [c for c in customers if customer_authors.get(c["customer_id"])]
    chosen = RNG.sample(with_handles, min(28, len(with_handles)))
    unhappy, happy = chosen[:13], chosen[13:]
    negative_cats = ("outage_spike", "complaint", "churn")

    def fill(group, n):
        out = group[:n] + RNG.choices(group, k=max(0, n - len(group)))
        RNG.shuffle(out)
        return iter(out)

    n_neg = sum(CUSTOMER_ALLOC[c] for c in negative_cats)
    neg_iter = fill(unhappy, n_neg)
    pos_iter = fill(happy, sum(CUSTOMER_ALLOC.values()) - n_neg)

    for cat, n in BASE_COUNTS.items():
        n_customer = CUSTOMER_ALLOC.get(cat, 0)
        for i in range(n):
            customer = None
            if i < n_customer:
                customer = next(neg_iter) if cat in negative_cats else next(pos_iter)
            restore = cat == "praise" and customer is None and i - n_customer < 3
            if cat == "outage_spike":
                when = spike_time()
            elif restore:
                when = pick([dt.datetime(2026, 11, 12, 15, tzinfo=UTC), dt.datetime(2026, 11, 12, 17, tzinfo=UTC),
                             dt.datetime(2026, 11, 13, 7, tzinfo=UTC)]) + dt.timedelta(minutes=RNG.randrange(0, 240))
            else:
                when = random_time()
            if customer is not None:
                lang = customer["language"]
                author = pick(customer_authors[customer["customer_id"]])
                platform = author["platform"]
            elif cat == "spam":
                platform = weighted(SPAM_PLATFORM_W)
                author = pick([a for a in spam_authors if a["platform"] == platform])
                lang = "fr" if chance(0.5) else "en"
            else:
                lang = "fr" if chance(0.68 if cat == "outage_spike" else 0.53) else "en"
                platform = weighted(PLATFORM_W[cat])
                author = choose_author(pools, platform, lang)
            slots = mk_slots(lang)
            if cat == "outage_spike":
                content = unique(gen_spike, lang, platform, slots, when, author=author)
            elif cat == "spam":
                content = unique(gen_spam, lang, platform, slots)
            elif cat == "praise":
                content = unique(gen_praise, lang, platform, slots, restore=restore, author=author)
            else:
                content = unique(GENERATORS[cat], lang, platform, slots, author=author)
            if platform == "bluesky" and len(content["text"]) > 300:
                raise RuntimeError("bluesky post over 300 characters: " + content["text"])
            mentions.append(new_mention(cat, lang, platform, author, when, content,
                                        customer_id=customer["customer_id"] if customer else None))

    for lang, kind, outlet, title, text, pinned in NEWS:
        author = outlets[outlet]
        when = pinned or random_time(office=True)
        content = dict(title=title, text=text, sentiment="neutral", intent="other")
        SEEN_TEXTS.add(text)
        mentions.append(new_mention("news", lang, kind, author, when, content))

    mentions.sort(key=lambda m: m["time"])
    add_replies(mentions, pools, care)
    mentions.sort(key=lambda m: m["time"])
    return mentions


def reply_prefix(parent: dict) -> str:
    p, h = parent["platform"], parent["author"]["handle"]
    if p in ("mastodon", "bluesky", "forum"):
        return f"@{h} "
    return ""


def add_reply(mentions, parent, author, delay_min, content, cat, clamp_spike=False):
    when = parent["time"] + dt.timedelta(minutes=delay_min, seconds=RNG.randrange(60))
    if clamp_spike and when >= SPIKE_END:
        span = int((SPIKE_END - parent["time"]).total_seconds()) - 60
        when = parent["time"] + dt.timedelta(seconds=max(30, RNG.randint(30, max(31, span))))
    if when > WINDOW_END:
        when = WINDOW_END
    if when <= parent["time"]:
        when = parent["time"] + dt.timedelta(seconds=1)
    prefix = reply_prefix(parent)
    text = content["text"]
    content = dict(content, text=(prefix + text) if prefix else cap(text))
    if content["text"] in SEEN_TEXTS:
        content["text"] += " " + pick(EMOJI[content["sentiment"]])
    SEEN_TEXTS.add(content["text"])
    root = parent["root"] or parent
    if parent["platform"] == "forum":
        content["title"] = "Re: " + (root["title"] or "")
    else:
        content["title"] = None
    m = new_mention(cat, parent["lang"], parent["platform"], author, when, content, parent=parent, root=root,
                    customer_id=author.get("customer_id"))
    parent["children"] += 1
    mentions.append(m)
    return m


def add_replies(mentions, pools, care) -> None:
    threadable = ("mastodon", "bluesky", "reddit", "forum")

    def candidates(cats, platforms=threadable, pred=lambda m: True):
        return [m for m in mentions if m["cat"] in cats and m["platform"] in platforms
                and m["parent"] is None and pred(m)]

    def replier(parent):
        return choose_author(pools, parent["platform"], parent["lang"], exclude=parent["author"])

    # 1. "same here" during the outage spike (stays inside the spike window).
    early = candidates(["outage_spike"], pred=lambda m: m["time"] < dt.datetime(2026, 11, 12, 12, 45, tzinfo=UTC))
    for parent in RNG.sample(early, 7):
        slots = mk_slots(parent["lang"])
        text = fmt(pick_balanced(SAME_HERE[parent["lang"]]), slots)
        add_reply(mentions, parent, replier(parent), RNG.randint(2, 55),
                  dict(text=text, sentiment="negative", intent="complaint", sub="outage"), "outage_spike", clamp_spike=True)

    # 2. @LumioCare answers (incident notice on the spike, DM request elsewhere).
    for cats, kind, n in ((["outage_spike"], "incident", 3), (["complaint", "churn"], "dm", 3)):
        for parent in RNG.sample(candidates(cats, SOCIAL), n):
            text = pick_balanced(CARE_REPLIES[parent["lang"]][kind])
            add_reply(mentions, parent, care[parent["platform"]], RNG.randint(10, 240),
                      dict(text=text, sentiment="neutral", intent="other"), "care_reply")

    # 3. Answers to questions, two of them thanked by the asker (nested replies).
    answered = RNG.sample(candidates(["question"]), 7)
    answers = []
    for parent in answered:
        text = ANSWERS[parent["lang"]][parent["topic"]]
        answers.append(add_reply(mentions, parent, replier(parent), RNG.randint(5, 600),
                                 dict(text=text, sentiment="neutral", intent="other"), "answer"))
    for ans in RNG.sample(answers, 2):
        asker = ans["parent"]["author"]
        add_reply(mentions, ans, asker, RNG.randint(10, 180),
                  dict(text=pick_balanced(THANKS[ans["lang"]]), sentiment="positive", intent="other"), "thanks")

    # 4. Other customers piling on a complaint.
    for parent in RNG.sample(candidates(["complaint"]), 4):
        text = pick_balanced(SAME_ISSUE[parent["lang"]][parent["sub"]])
        add_reply(mentions, parent, replier(parent), RNG.randint(10, 1440),
                  dict(text=text, sentiment="negative", intent="complaint", sub=parent["sub"]), "complaint")

    # 5. Churn talk under complaints / churn threats.
    for parent in RNG.sample(candidates(["complaint", "churn"]), 3):
        text, sentiment, intent = pick_balanced(CHURN_AGREE[parent["lang"]])
        add_reply(mentions, parent, replier(parent), RNG.randint(10, 1440),
                  dict(text=fmt(text, mk_slots(parent["lang"])), sentiment=sentiment, intent=intent), "churn")

    # 6. Advice to would-be buyers.
    for parent in RNG.sample(candidates(["purchase"]), 4):
        text, sentiment, intent = pick_balanced(PURCHASE_ADVICE[parent["lang"]])
        add_reply(mentions, parent, replier(parent), RNG.randint(10, 1440),
                  dict(text=fmt(text, mk_slots(parent["lang"])), sentiment=sentiment, intent=intent), "advice")

    # 7. Agreement under praise.
    for parent in RNG.sample(candidates(["praise"]), 3):
        text, sentiment, intent = pick_balanced(PRAISE_AGREE[parent["lang"]])
        add_reply(mentions, parent, replier(parent), RNG.randint(10, 1440),
                  dict(text=text, sentiment=sentiment, intent=intent), "praise")


def finalise(mentions: list[dict]) -> list[dict]:
    for i, m in enumerate(mentions, start=1):
        m["native_id"] = f"smp-{i:04d}"
    rows = []
    for m in mentions:
        m["url"] = make_url(m)
        eng = engagement(m)
        eng["replies"] = max(eng["replies"], m["children"])
        a = m["author"]
        rows.append({
            "native_id": m["native_id"],
            "platform": m["platform"],
            "url": m["url"],
            "author": {"id": a["id"], "handle": a["handle"], "display_name": a["display_name"], "followers": a["followers"]},
            "title": m["title"],
            "text": m["text"],
            "language_hint": m["lang"],
            "created_at": iso(m["time"]),
            "thread": {"parent_id": m["parent"]["native_id"] if m["parent"] else None,
                       "root_id": m["root"]["native_id"] if m["root"] else None},
            "engagement": eng,
            "expected": {"sentiment": m["sentiment"], "intent": m["intent"], "customer_id": m["customer_id"]},
        })
    return rows


# --------------------------------------------------------------------------- checks & summary

def self_check(rows: list[dict], mentions: list[dict], customers: list[dict]) -> dict:
    assert len(rows) >= 320, len(rows)
    ids = [r["native_id"] for r in rows]
    assert len(set(ids)) == len(ids), "duplicate native_id"
    assert all(re.fullmatch(r"smp-\d{4}", i) for i in ids)
    urls = [r["url"] for r in rows]
    assert len(set(urls)) == len(urls), "duplicate url"
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts), "duplicate text"
    position = {i: n for n, i in enumerate(ids)}
    times = {r["native_id"]: r["created_at"] for r in rows}
    platforms = {"mastodon", "reddit", "bluesky", "news", "forum", "reviews", "blog"}
    for n, r in enumerate(rows):
        assert list(r) == MENTION_KEYS, r["native_id"]
        assert set(r["author"]) == {"id", "handle", "display_name", "followers"}
        assert r["platform"] in platforms
        assert r["language_hint"] in ("fr", "en")
        assert r["expected"]["sentiment"] in ("positive", "neutral", "negative")
        assert r["expected"]["intent"] in ("complaint", "praise", "question", "purchase", "churn_risk", "spam", "other")
        f = r["author"]["followers"]
        assert f is None or 3 <= f <= 250000, (r["native_id"], f)
        t = dt.datetime.strptime(r["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert WINDOW_START <= t <= WINDOW_END, r["created_at"]
        assert (r["title"] is None) == (r["platform"] in ("mastodon", "bluesky", "reddit")), r["native_id"]
        parent, root = r["thread"]["parent_id"], r["thread"]["root_id"]
        assert (parent is None) == (root is None)
        if parent:
            assert position[parent] < n and position[root] <= position[parent], r["native_id"]
            assert times[parent] < r["created_at"] or times[parent] == r["created_at"] and position[parent] < n
        if r["engagement"]["replies"] < sum(1 for x in rows if x["thread"]["parent_id"] == r["native_id"]):
            raise AssertionError("reply count below thread size: " + r["native_id"])
        if parent is None:
            hay = f"{r['title'] or ''} {r['text']}".casefold()
            assert any(w in hay for w in BRAND_WORDS), r["native_id"]
    # Customer-authored mentions use exactly the handle stored in the CSV column of that platform.
    by_id = {c["customer_id"]: c for c in customers}
    handle_owner = {}
    for c in customers:
        for col in ("mastodon", "bluesky", "reddit"):
            if c[col]:
                handle_owner[c[col].lower()] = (c["customer_id"], col)
    for m in mentions:
        if m["customer_id"]:
            assert by_id[m["customer_id"]][m["platform"]] == m["author"]["handle"], m["native_id"]
    authored = [r for r in rows if r["author"]["handle"].lower() in handle_owner]
    for r in authored:
        assert handle_owner[r["author"]["handle"].lower()][1] == r["platform"]
    assert len(authored) == sum(1 for m in mentions if m["customer_id"]), "stray handle collision with CRM"
    neg_customer = [r for r in authored if r["expected"]["sentiment"] == "negative"]
    assert len(authored) >= 40 and len(neg_customer) >= 12
    spike = [r for r in rows if r["expected"]["sentiment"] == "negative"
             and iso(SPIKE_START) <= r["created_at"] < iso(SPIKE_END)]
    assert 35 <= len(spike) <= 50, len(spike)
    replies = [r for r in rows if r["thread"]["parent_id"]]
    # CRM
    assert len(customers) == 60
    emails = Counter(c["email"] for c in customers)
    assert [e for e, k in emails.items() if k > 1] == ["famille.garnier@courriel.example"]
    assert sum(1 for c in customers if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", c["email"])) == 1
    assert sum(1 for c in customers if not c["owner_name"]) == 1
    ranges = {"consumer": (300, 1500), "smb": (2000, 30000), "enterprise": (50000, 900000)}
    for c in customers:
        lo, hi = ranges[c["segment"]]
        assert lo <= c["account_value"] <= hi
    return {"authored": authored, "neg_customer": neg_customer, "spike": spike, "replies": replies}


def summary(rows, mentions, customers, check) -> str:
    out = []
    add = out.append
    add(f"mentions: {len(rows)}   customers: {len(customers)}   distinct authors: "
        f"{len({(r['platform'], r['author']['handle']) for r in rows})}")
    add(f"window: {iso(WINDOW_START)} .. {iso(WINDOW_END)}")
    lang = Counter(r["language_hint"] for r in rows)
    add("language: " + ", ".join(f"{k} {v} ({100 * v / len(rows):.0f}%)" for k, v in sorted(lang.items(), key=lambda kv: -kv[1])))
    add("platform: " + ", ".join(f"{k} {v}" for k, v in Counter(r["platform"] for r in rows).most_common()))
    cats = Counter(("reply:" + m["cat"]) if m["parent"] else m["cat"] for m in mentions)
    add("category: " + ", ".join(f"{k} {v}" for k, v in sorted(cats.items(), key=lambda kv: (kv[0].startswith("reply"), -kv[1]))))
    add("expected sentiment: " + ", ".join(f"{k} {v}" for k, v in Counter(r["expected"]["sentiment"] for r in rows).most_common()))
    add("expected intent: " + ", ".join(f"{k} {v}" for k, v in Counter(r["expected"]["intent"] for r in rows).most_common()))
    add(f"replies: {len(check['replies'])} ({100 * len(check['replies']) / len(rows):.0f}%)")
    add(f"outage spike: {len(check['spike'])} negative mentions on 2026-11-12 08:00-14:00Z")
    auth = check["authored"]
    add(f"customer-authored: {len(auth)} mentions by {len({r['author']['handle'] for r in auth})} handles "
        f"({len({m['customer_id'] for m in mentions if m['customer_id']})} customers); negative {len(check['neg_customer'])}; "
        "intents " + ", ".join(f"{k} {v}" for k, v in Counter(r["expected"]["intent"] for r in auth).most_common()))
    seg = Counter(c["segment"] for c in customers)
    add("crm segments: " + ", ".join(f"{k} {v}" for k, v in seg.most_common())
        + f"; language fr {sum(c['language'] == 'fr' for c in customers)}, en {sum(c['language'] == 'en' for c in customers)}"
        + f"; with a social handle {sum(1 for c in customers if c['mastodon'] or c['bluesky'] or c['reddit'])}")
    add("crm data-quality traps: duplicate email C-1024/C-1049, invalid email C-1031, no owner C-1056")
    return "\n".join(out)


def main() -> None:
    customers = build_customers()
    pools, customer_authors, outlets, care, spam_authors = build_authors(customers)
    mentions = build_mentions(customers, pools, customer_authors, outlets, care, spam_authors)
    rows = finalise(mentions)
    check = self_check(rows, mentions, customers)

    with open(MENTIONS_PATH, "w", encoding="utf-8", newline="\n") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(CUSTOMERS_PATH, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(customers)
    print(summary(rows, mentions, customers, check))
    print(f"wrote {os.path.relpath(MENTIONS_PATH)} and {os.path.relpath(CUSTOMERS_PATH)}")


if __name__ == "__main__":
    main()
