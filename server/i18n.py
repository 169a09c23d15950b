"""The pages' words in Norwegian Bokmål (the default), Nynorsk and English.

``language()`` picks the language of a request: ``?lang=`` (remembered in a cookie),
then that cookie, then ``Accept-Language`` (plain "no" reads Bokmål), then Bokmål. The
Nynorsk texts are in ``i18n_nn``, the steward pages' words in ``i18n_steward``; both are
merged into ``MESSAGES`` here, so every key has an "nb", an "nn" and an "en" text.
Templates call ``t("key")`` (with ``str.format`` fields as keywords).
"""

from __future__ import annotations

from datetime import date

from flask import g, request

LANGUAGES = ("nb", "nn", "en")
DEFAULT = "nb"
COOKIE = "eti_lang"
NAMES = {"nb": "Norsk (bokmål)", "nn": "Norsk (nynorsk)", "en": "English"}

MESSAGES: dict[str, dict[str, str]] = {
    # layout
    "site": {"nb": "ETI-katalogen", "en": "The ETI catalogue"},
    "tagline": {
        "nb": "Enklere tilgang til informasjon for familier med alvorlig syke barn",
        "en": "Easier access to information for families of seriously ill children",
    },
    "skip": {"nb": "Hopp til hovedinnholdet", "en": "Skip to main content"},
    "nav": {"nb": "Hovedmeny", "en": "Main menu"},
    "nav.search": {"nb": "Søk", "en": "Search"},
    "nav.query": {"nb": "SPARQL-spørring", "en": "SPARQL query"},
    "nav.validate": {"nb": "Validering", "en": "Validation"},
    "nav.agreements": {"nb": "Avtaler", "en": "Agreements"},
    "nav.ontology": {"nb": "Ontologi", "en": "Ontology"},
    "lang.switch": {"nb": "Language: English", "en": "Språk: norsk"},
    "lang.label": {"nb": "Bytt språk", "en": "Change language"},
    "signin": {"nb": "Logg inn", "en": "Sign in"},
    "signout": {"nb": "Logg ut", "en": "Sign out"},
    "signed_in_as": {"nb": "Innlogget som {who}", "en": "Signed in as {who}"},
    "role.admin": {"nb": "administrator", "en": "administrator"},
    "role.steward": {"nb": "forvalter for {org}", "en": "steward for {org}"},
    "role.channel": {"nb": "kanal {channel}", "en": "channel {channel}"},
    "footer.about": {
        "nb": "Katalog over dataprodukter i økosystemet Enklere tilgang til informasjon (ETI).",
        "en": "Catalogue of the data products of the Easier access to information (ETI) ecosystem.",
    },
    "footer.machine": {"nb": "For maskiner", "en": "For machines"},
    # search
    "search.title": {"nb": "Søk i dataprodukter", "en": "Search data products"},
    "search.intro": {
        "nb": "Finn dataprodukter om ytelser, tjenester og rettigheter for familier med "
        "alvorlig syke barn, fra Nav, Helsedirektoratet, Udir, Statped og kommunene.",
        "en": "Find data products on benefits, services and rights for families of seriously "
        "ill children, from Nav, the Norwegian Directorate of Health, Udir, Statped and the "
        "municipalities.",
    },
    "search.label": {"nb": "Søkeord", "en": "Search words"},
    "search.button": {"nb": "Søk", "en": "Search"},
    "search.filters": {"nb": "Avgrens søket", "en": "Refine the search"},
    "search.apply": {"nb": "Bruk filtrene", "en": "Apply the filters"},
    "search.clear": {"nb": "Fjern alle filtre", "en": "Clear all filters"},
    "search.results": {"nb": "Resultater", "en": "Results"},
    "search.count": {"nb": "{n} dataprodukter", "en": "{n} data products"},
    "search.count_one": {"nb": "1 dataprodukt", "en": "1 data product"},
    "search.count_for": {
        "nb": "{n} dataprodukter for «{q}»",
        "en": "{n} data products for “{q}”",
    },
    "search.count_for_one": {"nb": "1 dataprodukt for «{q}»", "en": "1 data product for “{q}”"},
    "search.none": {
        "nb": "Ingen dataprodukter passer. Prøv færre eller andre ord, eller fjern filtre.",
        "en": "No data product matches. Try fewer or other words, or clear filters.",
    },
    "search.api": {"nb": "Det samme som JSON", "en": "The same as JSON"},
    "search.pages": {"nb": "Sider", "en": "Pages"},
    "search.previous": {"nb": "Forrige side", "en": "Previous page"},
    "search.next": {"nb": "Neste side", "en": "Next page"},
    "search.page_of": {"nb": "Side {page} av {pages}", "en": "Page {page} of {pages}"},
    "facet.theme": {"nb": "Tema", "en": "Theme"},
    "facet.publisher": {"nb": "Utgiver", "en": "Publisher"},
    "facet.event": {"nb": "Livshendelse", "en": "Life event"},
    "facet.municipality": {"nb": "Område", "en": "Area"},
    "facet.status": {"nb": "Status", "en": "Status"},
    "owner": {"nb": "Eier", "en": "Owner"},
    "themes": {"nb": "Tema", "en": "Themes"},
    "updated": {"nb": "Oppdatert", "en": "Updated"},
    "status": {"nb": "Status", "en": "Status"},
    "days_ago": {"nb": "for {n} dager siden", "en": "{n} days ago"},
    "days_ago_one": {"nb": "for 1 dag siden", "en": "1 day ago"},
    "today": {"nb": "i dag", "en": "today"},
    "yesterday": {"nb": "i går", "en": "yesterday"},
    # product
    "product.kind": {"nb": "Dataprodukt", "en": "Data product"},
    "product.facts": {"nb": "Fakta", "en": "Facts"},
    "product.identifier": {"nb": "Identifikator", "en": "Identifier"},
    "product.iri": {"nb": "IRI", "en": "IRI"},
    "product.publisher": {"nb": "Utgiver", "en": "Publisher"},
    "product.contact": {"nb": "Kontakt", "en": "Contact"},
    "product.events": {"nb": "Livshendelser", "en": "Life events"},
    "product.spatial": {"nb": "Område", "en": "Area"},
    "product.frequency": {"nb": "Oppdateres", "en": "Updated"},
    "product.modified": {"nb": "Sist endret", "en": "Last modified"},
    "product.issued": {"nb": "Utgitt", "en": "Issued"},
    "product.version": {"nb": "Versjon", "en": "Version"},
    "product.access": {"nb": "Tilgang", "en": "Access"},
    "product.languages": {"nb": "Språk", "en": "Languages"},
    "product.keywords": {"nb": "Emneord", "en": "Keywords"},
    "product.fresh": {"nb": "Oppdatert i tide (frist {day})", "en": "Up to date (due {day})"},
    "product.stale": {
        "nb": "Ikke oppdatert i tide (fristen var {day})",
        "en": "Not updated in time (was due {day})",
    },
    "product.datasets": {"nb": "Datasett og porter", "en": "Datasets and ports"},
    "product.dataset": {"nb": "Datasett", "en": "Dataset"},
    "product.port": {"nb": "Port (datatjeneste)", "en": "Port (data service)"},
    "product.distribution": {"nb": "Distribusjon", "en": "Distribution"},
    "product.format": {"nb": "Format", "en": "Format"},
    "product.licence": {"nb": "Lisens", "en": "Licence"},
    "product.access_url": {"nb": "Tilgangsadresse", "en": "Access URL"},
    "product.endpoint": {"nb": "Endepunkt", "en": "Endpoint"},
    "product.items": {
        "nb": "Informasjon produktet er kilde for",
        "en": "Information it is the source of",
    },
    "product.items_hidden": {
        "nb": "Innholdet i dette produktet krever en avtale med eieren.",
        "en": "The content of this product needs an agreement with its owner.",
    },
    "product.offers": {"nb": "Tilbud og vilkår", "en": "Offers and terms"},
    "product.open_offer": {
        "nb": "Åpent tilbud: innholdet kan leses av alle",
        "en": "Open offer: anyone may read the content",
    },
    "product.agreement_offer": {
        "nb": "Krever avtale med eieren",
        "en": "Needs an agreement with the owner",
    },
    "product.purposes": {"nb": "Formål", "en": "Purposes"},
    "product.duties": {"nb": "Plikter", "en": "Duties"},
    "duty.attribute": {"nb": "kildehenvisning", "en": "attribution"},
    "duty.refresh": {"nb": "hold kopier oppdatert", "en": "keep copies fresh"},
    "duty.within": {"nb": "innen {interval}", "en": "within {interval}"},
    "product.request": {"nb": "Be om avtale", "en": "Request an agreement"},
    "product.start": {"nb": "Fra dato", "en": "From date"},
    "product.end": {"nb": "Til dato", "en": "To date"},
    "product.purpose": {"nb": "Formål", "en": "Purpose"},
    "product.your_agreements": {"nb": "Dine avtaler om produktet", "en": "Your agreements on it"},
    "product.no_agreements": {
        "nb": "Du har ingen avtaler om dette produktet.",
        "en": "You have no agreement on this product.",
    },
    "product.history": {"nb": "Versjonshistorikk", "en": "Version history"},
    "product.history_api": {"nb": "Full historikk som JSON", "en": "Full history as JSON"},
    "product.added": {"nb": "{n} tripler lagt til", "en": "{n} triples added"},
    "product.added_one": {"nb": "1 trippel lagt til", "en": "1 triple added"},
    "product.removed": {"nb": "{n} tripler fjernet", "en": "{n} triples removed"},
    "product.removed_one": {"nb": "1 trippel fjernet", "en": "1 triple removed"},
    "product.by": {"nb": "av", "en": "by"},
    "product.quality": {
        "nb": "Validering og metadatakvalitet",
        "en": "Validation and metadata quality",
    },
    "product.conforms": {"nb": "Følger de felles reglene", "en": "Follows the shared rules"},
    "product.breaks": {"nb": "Bryter de felles reglene", "en": "Breaks the shared rules"},
    "product.score": {"nb": "Kvalitetspoeng", "en": "Quality score"},
    "product.rdf": {"nb": "Beskrivelsen som RDF", "en": "The description as RDF"},
    "product.withdrawn": {"nb": "Produktet er trukket tilbake", "en": "The product was withdrawn"},
    "product.withdrawn_text": {
        "nb": "Dataproduktet {ident} er trukket tilbake. Historikken er bevart.",
        "en": "The data product {ident} was withdrawn. Its history is kept.",
    },
    "product.signin_to_request": {
        "nb": "Logg inn som informasjonskanal for å be om en avtale.",
        "en": "Sign in as an information channel to request an agreement.",
    },
    "rating.excellent": {"nb": "utmerket", "en": "excellent"},
    "rating.good": {"nb": "god", "en": "good"},
    "rating.sufficient": {"nb": "tilstrekkelig", "en": "sufficient"},
    "rating.poor": {"nb": "svak", "en": "poor"},
    "dim.findability": {"nb": "Søkbarhet", "en": "Findability"},
    "dim.accessibility": {"nb": "Tilgjengelighet", "en": "Accessibility"},
    "dim.interoperability": {"nb": "Samhandlingsevne", "en": "Interoperability"},
    "dim.reusability": {"nb": "Gjenbrukbarhet", "en": "Reusability"},
    "dim.contextuality": {"nb": "Kontekst", "en": "Contextuality"},
    # query
    "query.title": {"nb": "SPARQL-spørring", "en": "SPARQL query"},
    "query.intro": {
        "nb": "Skriv en SPARQL 1.1-spørring, eller velg et eksempel. Spørringen kjøres mot "
        "det du har tilgang til: offentlige metadata, innholdet i åpne produkter og det "
        "avtalene dine åpner.",
        "en": "Write a SPARQL 1.1 query, or pick an example. It runs over what you may read: "
        "public metadata, the content of open products and what your agreements open.",
    },
    "query.label": {"nb": "Spørring", "en": "Query"},
    "query.run": {"nb": "Kjør spørringen", "en": "Run the query"},
    "query.examples": {"nb": "Eksempler", "en": "Examples"},
    "query.examples_intro": {
        "nb": "Eksemplene fra README. Ett klikk kjører spørringen.",
        "en": "The examples of the README. One click runs the query.",
    },
    "query.results": {"nb": "Resultat", "en": "Result"},
    "query.table": {"nb": "Resultattabell", "en": "Result table"},
    "query.rows": {"nb": "{n} rader", "en": "{n} rows"},
    "query.rows_one": {"nb": "1 rad", "en": "1 row"},
    "query.triples": {"nb": "{n} tripler", "en": "{n} triples"},
    "query.triples_one": {"nb": "1 trippel", "en": "1 triple"},
    "query.truncated": {
        "nb": "Viser de første {n} radene. Last ned for å få alle.",
        "en": "Showing the first {n} rows. Download to get them all.",
    },
    "query.yes": {"nb": "Ja (true)", "en": "Yes (true)"},
    "query.no": {"nb": "Nei (false)", "en": "No (false)"},
    "query.download": {"nb": "Last ned", "en": "Download"},
    "query.share": {"nb": "Lenke til denne spørringen", "en": "Link to this query"},
    "query.error": {"nb": "Spørringen kunne ikke kjøres", "en": "The query could not run"},
    "query.running": {"nb": "Kjører …", "en": "Running …"},
    "query.subject": {"nb": "Subjekt", "en": "Subject"},
    "query.predicate": {"nb": "Predikat", "en": "Predicate"},
    "query.object": {"nb": "Objekt", "en": "Object"},
    "query.view": {
        "nb": "Du spør som {who}.",
        "en": "You are querying as {who}.",
    },
    "query.anonymous": {
        "nb": "Du spør uten å være logget inn.",
        "en": "You are querying without signing in.",
    },
    "query.help": {
        "nb": "Ctrl+Enter kjører spørringen. Tab flytter fokus ut av editoren.",
        "en": "Ctrl+Enter runs the query. Tab moves the focus out of the editor.",
    },
    # validate
    "validate.title": {"nb": "Valider en katalog", "en": "Validate a catalogue"},
    "validate.intro": {
        "nb": "Sjekk en DCAT-AP-NO-katalog eller et dataprodukt mot de felles reglene. Lim inn "
        "tekst, last opp en fil eller oppgi en adresse.",
        "en": "Check a DCAT-AP-NO catalogue or a data product against the shared rules. Paste "
        "text, upload a file or give a URL.",
    },
    "validate.source": {"nb": "Hva skal valideres", "en": "What to validate"},
    "validate.text": {"nb": "Lim inn RDF", "en": "Paste RDF"},
    "validate.file": {"nb": "Eller last opp en fil", "en": "Or upload a file"},
    "validate.file_hint": {
        "nb": "Turtle, TriG, N-Triples, N-Quads, RDF/XML eller JSON-LD.",
        "en": "Turtle, TriG, N-Triples, N-Quads, RDF/XML or JSON-LD.",
    },
    "validate.url": {"nb": "Eller oppgi en adresse (URL)", "en": "Or give an address (URL)"},
    "validate.format": {"nb": "Format", "en": "Format"},
    "validate.format_auto": {
        "nb": "Finn formatet selv (Turtle for innlimt tekst)",
        "en": "Tell by itself (Turtle for pasted text)",
    },
    "validate.profiles": {"nb": "Profiler", "en": "Profiles"},
    "validate.profiles_hint": {
        "nb": "Ingen valgt betyr alle.",
        "en": "None chosen means all.",
    },
    "validate.as_of": {"nb": "Vurder per dato", "en": "Judge as of"},
    "validate.as_of_hint": {
        "nb": "Ferskhetsregler vurderes per denne datoen (tom: i dag).",
        "en": "Freshness rules are judged on this day (empty: today).",
    },
    "validate.button": {"nb": "Valider", "en": "Validate"},
    "validate.report": {"nb": "Rapport", "en": "Report"},
    "validate.conforms": {"nb": "I samsvar med reglene", "en": "Conforms to the rules"},
    "validate.fails": {"nb": "Ikke i samsvar med reglene", "en": "Does not conform to the rules"},
    "validate.counts": {
        "nb": "{errors} feil, {warnings} advarsler, {notes} merknader",
        "en": "{errors} errors, {warnings} warnings, {notes} notes",
    },
    "validate.judged": {
        "nb": "Profiler: {profiles}. Vurdert per {day}.",
        "en": "Profiles: {profiles}. Judged as of {day}.",
    },
    "validate.resource": {"nb": "Ressurs", "en": "Resource"},
    "validate.property": {"nb": "Egenskap", "en": "Property"},
    "validate.the_resource": {"nb": "(ressursen selv)", "en": "(the resource itself)"},
    "validate.value": {"nb": "Verdi", "en": "Value"},
    "validate.rule": {"nb": "Regel", "en": "Rule"},
    "validate.download": {"nb": "Last ned rapporten", "en": "Download the report"},
    "validate.quality": {"nb": "Metadatakvalitet", "en": "Metadata quality"},
    "validate.input_error": {"nb": "Kunne ikke lese inndata", "en": "Could not read the input"},
    "validate.nothing": {
        "nb": "Lim inn tekst, velg en fil eller oppgi en adresse.",
        "en": "Paste text, choose a file or give an address.",
    },
    "validate.at": {"nb": "linje {line}, kolonne {column}", "en": "line {line}, column {column}"},
    "severity.Violation": {"nb": "Feil", "en": "Error"},
    "severity.Warning": {"nb": "Advarsel", "en": "Warning"},
    "severity.Info": {"nb": "Merknad", "en": "Note"},
    # agreements
    "agreements.title": {"nb": "Avtaler", "en": "Agreements"},
    "agreements.intro": {
        "nb": "Avtalene du er part i: forespørsler, aktive, utløpte og avsluttede.",
        "en": "The agreements you are party to: requests, active, expired and ended.",
    },
    "agreements.signin": {
        "nb": "Logg inn som informasjonskanal eller forvalter for å se avtalene dine.",
        "en": "Sign in as an information channel or a steward to see your agreements.",
    },
    "agreements.none": {"nb": "Ingen avtaler her.", "en": "No agreements here."},
    "agreements.product": {"nb": "Produkt", "en": "Product"},
    "agreements.channel": {"nb": "Kanal", "en": "Channel"},
    "agreements.owner": {"nb": "Eier", "en": "Owner"},
    "agreements.period": {"nb": "Periode", "en": "Period"},
    "agreements.purpose": {"nb": "Formål", "en": "Purpose"},
    "agreements.actions": {"nb": "Handlinger", "en": "Actions"},
    "agreements.request_hint": {
        "nb": "Be om en ny avtale fra produktsiden, under «Tilbud og vilkår».",
        "en": "Request a new agreement on the product's page, under “Offers and terms”.",
    },
    "state.requested": {"nb": "Forespørsler", "en": "Requests"},
    "state.active": {"nb": "Aktive", "en": "Active"},
    "state.expired": {"nb": "Utløpte", "en": "Expired"},
    "state.terminated": {"nb": "Avsluttede", "en": "Terminated"},
    "state.refused": {"nb": "Avslåtte", "en": "Refused"},
    "status.requested": {"nb": "forespurt", "en": "requested"},
    "status.active": {"nb": "aktiv", "en": "active"},
    "status.expired": {"nb": "utløpt", "en": "expired"},
    "status.terminated": {"nb": "avsluttet", "en": "terminated"},
    "status.refused": {"nb": "avslått", "en": "refused"},
    "action.accept": {"nb": "Godta", "en": "Accept"},
    "action.refuse": {"nb": "Avslå", "en": "Refuse"},
    "action.terminate": {"nb": "Avslutt", "en": "Terminate"},
    "action.accept.done": {
        "nb": "Avtalen {ident} er godtatt.",
        "en": "Agreement {ident} accepted.",
    },
    "action.refuse.done": {"nb": "Avtalen {ident} er avslått.", "en": "Agreement {ident} refused."},
    "action.terminate.done": {
        "nb": "Avtalen {ident} er avsluttet.",
        "en": "Agreement {ident} terminated.",
    },
    "action.request.done": {
        "nb": "Avtalen {ident} er opprettet med status «{status}».",
        "en": "Agreement {ident} created with the status “{status}”.",
    },
    "action.of": {"nb": "{action} avtale {ident}", "en": "{action} agreement {ident}"},
    # sign-in
    "signin.title": {"nb": "Logg inn", "en": "Sign in"},
    "signin.intro": {
        "nb": "Lim inn tokenet du har fått fra katalogens administrator (eti token create). "
        "Det lagres bare i en sikker informasjonskapsel for denne økten.",
        "en": "Paste the token the catalogue's administrator gave you (eti token create). It is "
        "kept only in a secure cookie for this session.",
    },
    "signin.token": {"nb": "Token", "en": "Token"},
    "signin.button": {"nb": "Logg inn", "en": "Sign in"},
    "signin.failed": {"nb": "Innloggingen mislyktes: {why}", "en": "Sign-in failed: {why}"},
    "signin.empty": {"nb": "Lim inn et token.", "en": "Paste a token."},
    "signin.done": {"nb": "Du er logget inn som {who}.", "en": "You are signed in as {who}."},
    "signout.done": {"nb": "Du er logget ut.", "en": "You are signed out."},
    "signin.expired": {
        "nb": "Tokenet ditt gjelder ikke lenger, så du er logget ut.",
        "en": "Your token no longer holds, so you were signed out.",
    },
    # errors
    "error.title": {"nb": "Noe gikk galt", "en": "Something went wrong"},
    "error.404": {"nb": "Fant ikke siden", "en": "Page not found"},
    "error.404.text": {
        "nb": "Det finnes ikke noe dataprodukt {ident} i katalogen.",
        "en": "There is no data product {ident} in the catalogue.",
    },
    "error.csrf": {"nb": "Skjemaet er utløpt", "en": "The form has expired"},
    "error.csrf.text": {
        "nb": "Skjemaet kunne ikke bekreftes. Gå tilbake, last siden på nytt og prøv igjen.",
        "en": "The form could not be verified. Go back, reload the page and try again.",
    },
    "error.forbidden": {"nb": "Ikke tillatt", "en": "Not allowed"},
    "error.back": {"nb": "Til forsiden", "en": "To the front page"},
    "error.bad_request": {"nb": "Ugyldig forespørsel", "en": "Bad request"},
}


from .i18n_nn import NYNORSK  # noqa: E402
from .i18n_steward import STEWARD  # noqa: E402

MESSAGES.update(STEWARD)
for _key, _text in NYNORSK.items():
    MESSAGES[_key]["nn"] = _text


def language() -> str:
    """The language of this request (cached on ``g``)."""
    if "lang" in g:
        return g.lang
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        g.lang, g.lang_asked = asked, True
        return asked
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGUAGES:
        g.lang = cookie
        return cookie
    best = request.accept_languages.best_match(["nb", "no", "nn", "en"], default=DEFAULT)
    g.lang = best if best in ("en", "nn") else DEFAULT
    return g.lang


def t(key: str, **fields: object) -> str:
    """The text of ``key`` in the request's language; with ``n=1``, the singular form
    ``key_one`` when there is one ("1 dataprodukt", never "1 dataprodukter")."""
    if fields.get("n") == 1 and key + "_one" in MESSAGES:
        key += "_one"
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(language()) or entry[DEFAULT]
    return text.format(**fields) if fields else text


def pick(texts: dict[str, str] | None, lang: str | None = None) -> str:
    """The best text of a language-tagged set for the request's language."""
    if not texts:
        return ""
    lang = lang or language()
    for choice in (lang, "nb" if lang != "en" else "en", "nn", "en", "nb", "und", ""):
        if choice in texts:
            return texts[choice]
    return next(iter(texts.values()))


MONTHS = {
    "nb": "jan. feb. mars april mai juni juli aug. sep. okt. nov. des.".split(),
    "nn": "jan. feb. mars april mai juni juli aug. sep. okt. nov. des.".split(),
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
}


def long_date(value: str | date | None) -> str:
    """``2026-11-02`` as "2. nov. 2026" (nb, nn) or "2 Nov 2026" (en); anything else as is."""
    if value is None:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    month = MONTHS[language()][day.month - 1]
    if language() == "en":
        return f"{day.day} {month} {day.year}"
    return f"{day.day}. {month} {day.year}"
