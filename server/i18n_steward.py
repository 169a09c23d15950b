"""The steward pages' words in Bokmål, Nynorsk and English (merged into ``i18n.MESSAGES``)."""

from __future__ import annotations

STEWARD: dict[str, dict[str, str]] = {
    "nav.mine": {"nb": "Mine produkter", "nn": "Mine produkt", "en": "My products"},
    "nav.new": {"nb": "Registrer produkt", "nn": "Registrer produkt", "en": "Register a product"},
    "steward.signin_first": {
        "nb": "Logg inn som forvalter for å registrere og endre produkter.",
        "nn": "Logg inn som forvaltar for å registrere og endre produkt.",
        "en": "Sign in as a steward to register and change products.",
    },
    "steward.only_stewards": {
        "nb": "Disse sidene er for forvaltere av dataprodukter.",
        "nn": "Desse sidene er for forvaltarar av dataprodukt.",
        "en": "These pages are for the stewards of data products.",
    },
    "steward.not_yours": {
        "nb": "Dataproduktet {ident} tilhører en annen organisasjon.",
        "nn": "Dataproduktet {ident} høyrer til ein annan organisasjon.",
        "en": "The data product {ident} belongs to another organisation.",
    },
    "steward.new_title": {
        "nb": "Registrer et dataprodukt",
        "nn": "Registrer eit dataprodukt",
        "en": "Register a data product",
    },
    "steward.edit_title": {"nb": "Endre {title}", "nn": "Endre {title}", "en": "Edit {title}"},
    "steward.intro": {
        "nb": "Fyll ut beskrivelsen og last opp innholdet. «Sjekk» viser hva reglene sier uten "
        "å lagre noe.",
        "nn": "Fyll ut skildringa og last opp innhaldet. «Sjekk» viser kva reglane seier utan "
        "å lagre noko.",
        "en": "Fill in the description and upload the content. “Check” shows what the rules "
        "say without saving anything.",
    },
    "steward.required": {
        "nb": "Felt merket (påkrevd) må fylles ut.",
        "nn": "Felt merkte (påkravd) må fyllast ut.",
        "en": "Fields marked (required) must be filled in.",
    },
    "steward.required_mark": {"nb": "(påkrevd)", "nn": "(påkravd)", "en": "(required)"},
    "steward.summary": {
        "nb": "Det er {n} feil å rette",
        "nn": "Det er {n} feil å rette",
        "en": "There are {n} errors to fix",
    },
    "steward.summary_one": {
        "nb": "Det er 1 feil å rette",
        "nn": "Det er 1 feil å rette",
        "en": "There is 1 error to fix",
    },
    "steward.checked": {
        "nb": "Beskrivelsen følger de felles reglene. Du kan registrere den.",
        "nn": "Skildringa følgjer dei felles reglane. Du kan registrere henne.",
        "en": "The description follows the shared rules. You can register it.",
    },
    "steward.general": {
        "nb": "Om produktet som helhet",
        "nn": "Om produktet som heilskap",
        "en": "About the product as a whole",
    },
    "steward.registered": {
        "nb": "Dataproduktet {ident} er registrert (versjon {version}).",
        "nn": "Dataproduktet {ident} er registrert (versjon {version}).",
        "en": "The data product {ident} is registered (version {version}).",
    },
    "steward.saved": {
        "nb": "Versjon {version} av {ident} er lagret.",
        "nn": "Versjon {version} av {ident} er lagra.",
        "en": "Version {version} of {ident} is saved.",
    },
    "steward.withdrawn": {
        "nb": "Dataproduktet {ident} er trukket tilbake.",
        "nn": "Dataproduktet {ident} er trekt tilbake.",
        "en": "The data product {ident} was withdrawn.",
    },
    "steward.dropped": {
        "nb": "{n} utsagn har ikke noe felt i skjemaet og blir ikke med når du lagrer",
        "nn": "{n} utsegner har ikkje noko felt i skjemaet og blir ikkje med når du lagrar",
        "en": "{n} statements have no field in the form and are not kept when you save",
    },
    "steward.dropped_one": {
        "nb": "1 utsagn har ikke noe felt i skjemaet og blir ikke med når du lagrer",
        "nn": "1 utsegn har ikkje noko felt i skjemaet og blir ikkje med når du lagrar",
        "en": "1 statement has no field in the form and is not kept when you save",
    },
    "steward.check": {"nb": "Sjekk", "nn": "Sjekk", "en": "Check"},
    "steward.register": {"nb": "Registrer", "nn": "Registrer", "en": "Register"},
    "steward.save": {
        "nb": "Lagre ny versjon",
        "nn": "Lagre ny versjon",
        "en": "Save a new version",
    },
    "steward.withdraw": {"nb": "Trekk tilbake", "nn": "Trekk tilbake", "en": "Withdraw"},
    "steward.withdraw_title": {
        "nb": "Trekke tilbake {title}?",
        "nn": "Trekkje tilbake {title}?",
        "en": "Withdraw {title}?",
    },
    "steward.withdraw_text": {
        "nb": "Produktet forsvinner fra søk, og kanalene mister tilgangen til innholdet. "
        "Historikken blir bevart. Dette kan ikke angres her.",
        "nn": "Produktet forsvinn frå søk, og kanalane mistar tilgangen til innhaldet. "
        "Historikken blir teken vare på. Dette kan ikkje angrast her.",
        "en": "The product leaves search and channels lose access to its content. Its "
        "history is kept. This cannot be undone here.",
    },
    "steward.withdraw_confirm": {
        "nb": "Ja, trekk tilbake",
        "nn": "Ja, trekk tilbake",
        "en": "Yes, withdraw it",
    },
    "steward.cancel": {"nb": "Avbryt", "nn": "Avbryt", "en": "Cancel"},
    "steward.history": {"nb": "Endringshistorikk", "nn": "Endringshistorikk", "en": "Changes"},
    "steward.history_of": {
        "nb": "Endringer i {title}",
        "nn": "Endringar i {title}",
        "en": "Changes to {title}",
    },
    "steward.version_by": {
        "nb": "Versjon {version}, {day}, av {agent}",
        "nn": "Versjon {version}, {day}, av {agent}",
        "en": "Version {version}, {day}, by {agent}",
    },
    "steward.no_changes": {
        "nb": "Ingen endrede utsagn.",
        "nn": "Ingen endra utsegner.",
        "en": "No statements changed.",
    },
    "diff.change": {"nb": "Endring", "nn": "Endring", "en": "Change"},
    "diff.added": {"nb": "Lagt til", "nn": "Lagt til", "en": "Added"},
    "diff.removed": {"nb": "Fjernet", "nn": "Fjerna", "en": "Removed"},
    "diff.what": {"nb": "Hva", "nn": "Kva", "en": "What"},
    "diff.property": {"nb": "Egenskap", "nn": "Eigenskap", "en": "Property"},
    "diff.value": {"nb": "Verdi", "nn": "Verdi", "en": "Value"},
    "diff.part.product": {"nb": "Produktet", "nn": "Produktet", "en": "The product"},
    "diff.part.contact": {"nb": "Kontaktpunktet", "nn": "Kontaktpunktet", "en": "Contact point"},
    "diff.part.dataset": {"nb": "Datasettet", "nn": "Datasettet", "en": "The dataset"},
    "diff.part.distribution": {
        "nb": "Distribusjonen",
        "nn": "Distribusjonen",
        "en": "The distribution",
    },
    "diff.part.port": {"nb": "Porten", "nn": "Porten", "en": "The port"},
    "diff.part.offer": {"nb": "Tilbudet", "nn": "Tilbodet", "en": "The offer"},
    "diff.part.inner": {
        "nb": "(en del av tilbudet)",
        "nn": "(ein del av tilbodet)",
        "en": "(a part of the offer)",
    },
    "diff.prop.title": {"nb": "Tittel", "nn": "Tittel", "en": "Title"},
    "diff.prop.description": {"nb": "Beskrivelse", "nn": "Skildring", "en": "Description"},
    "diff.prop.keyword": {"nb": "Emneord", "nn": "Emneord", "en": "Keyword"},
    "diff.prop.theme": {"nb": "Tema", "nn": "Tema", "en": "Theme"},
    "diff.prop.modified": {"nb": "Sist endret", "nn": "Sist endra", "en": "Last modified"},
    "diff.prop.accrualPeriodicity": {
        "nb": "Oppdateringsfrekvens",
        "nn": "Oppdateringsfrekvens",
        "en": "Update frequency",
    },
    "diff.prop.version": {"nb": "Versjon", "nn": "Versjon", "en": "Version"},
    "diff.prop.status": {"nb": "Status", "nn": "Status", "en": "Status"},
    "diff.prop.spatial": {"nb": "Område", "nn": "Område", "en": "Area"},
    "diff.prop.accessRights": {"nb": "Tilgang", "nn": "Tilgang", "en": "Access rights"},
    "diff.prop.license": {"nb": "Lisens", "nn": "Lisens", "en": "Licence"},
    "diff.prop.rightOperand": {
        "nb": "Formål eller frist",
        "nn": "Føremål eller frist",
        "en": "Purpose or interval",
    },
    "diff.prop.hasEmail": {"nb": "E-post", "nn": "E-post", "en": "Email"},
    "diff.prop.hasURL": {"nb": "Nettadresse", "nn": "Nettadresse", "en": "Web address"},
    "diff.prop.fn": {"nb": "Navn", "nn": "Namn", "en": "Name"},
    "diff.prop.isAuthoritativeSourceFor": {
        "nb": "Er kilde for",
        "nn": "Er kjelde for",
        "en": "Is the source of",
    },
    "form.identity": {"nb": "Identitet", "nn": "Identitet", "en": "Identity"},
    "form.id": {"nb": "Identifikator", "nn": "Identifikator", "en": "Identifier"},
    "form.id_hint": {
        "nb": "Små bokstaver a–z, sifre og bindestrek, for eksempel nav-pleiepenger. Kan ikke "
        "endres senere.",
        "nn": "Små bokstavar a–z, siffer og bindestrek, til dømes nav-pleiepenger. Kan ikkje "
        "endrast seinare.",
        "en": "Lower-case letters a–z, digits and hyphens, such as nav-pleiepenger. Cannot be "
        "changed later.",
    },
    "form.texts": {
        "nb": "Tittel og beskrivelse",
        "nn": "Tittel og skildring",
        "en": "Title and description",
    },
    "form.texts_hint": {
        "nb": "Bokmål og nynorsk kreves; engelsk anbefales.",
        "nn": "Bokmål og nynorsk er påkravd; engelsk er tilrådd.",
        "en": "Bokmål and Nynorsk are required; English is recommended.",
    },
    "form.title": {"nb": "Tittel ({lang})", "nn": "Tittel ({lang})", "en": "Title ({lang})"},
    "form.description": {
        "nb": "Beskrivelse ({lang})",
        "nn": "Skildring ({lang})",
        "en": "Description ({lang})",
    },
    "form.keywords": {
        "nb": "Emneord ({lang})",
        "nn": "Emneord ({lang})",
        "en": "Keywords ({lang})",
    },
    "form.keywords_hint": {
        "nb": "Skill emneordene med komma.",
        "nn": "Skil emneorda med komma.",
        "en": "Separate the keywords with commas.",
    },
    "form.lang.nb": {"nb": "bokmål", "nn": "bokmål", "en": "Bokmål"},
    "form.lang.nn": {"nb": "nynorsk", "nn": "nynorsk", "en": "Nynorsk"},
    "form.lang.en": {"nb": "engelsk", "nn": "engelsk", "en": "English"},
    "form.classification": {
        "nb": "Tema og område",
        "nn": "Tema og område",
        "en": "Themes and area",
    },
    "form.themes": {"nb": "Tema", "nn": "Tema", "en": "Themes"},
    "form.themes_hint": {
        "nb": "Velg minst ett EU-tema og helst også tema fra Los.",
        "nn": "Vel minst eitt EU-tema og helst òg tema frå Los.",
        "en": "Choose at least one EU theme, and preferably Los themes as well.",
    },
    "form.themes_filter": {
        "nb": "Filtrer temaene",
        "nn": "Filtrer temaa",
        "en": "Filter the themes",
    },
    "form.group.eu": {"nb": "EUs datatema", "nn": "EU sine datatema", "en": "EU data themes"},
    "form.group.los_tema": {"nb": "Los-tema", "nn": "Los-tema", "en": "Los themes"},
    "form.group.los_ord": {"nb": "Los-ord", "nn": "Los-ord", "en": "Los words"},
    "form.spatial": {"nb": "Område", "nn": "Område", "en": "Area"},
    "form.none": {"nb": "(ikke valgt)", "nn": "(ikkje vald)", "en": "(not chosen)"},
    "form.upkeep": {
        "nb": "Oppdatering og status",
        "nn": "Oppdatering og status",
        "en": "Upkeep and status",
    },
    "form.frequency": {
        "nb": "Oppdateringsfrekvens",
        "nn": "Oppdateringsfrekvens",
        "en": "Update frequency",
    },
    "form.status": {"nb": "Livsløpsstatus", "nn": "Livsløpsstatus", "en": "Lifecycle status"},
    "form.version": {"nb": "Versjon", "nn": "Versjon", "en": "Version"},
    "form.version_hint": {
        "nb": "Produktets egen versjon, for eksempel 1.0.0.",
        "nn": "Den eigne versjonen til produktet, til dømes 1.0.0.",
        "en": "The product's own version, such as 1.0.0.",
    },
    "form.contact": {"nb": "Kontaktpunkt", "nn": "Kontaktpunkt", "en": "Contact point"},
    "form.contact_name": {"nb": "Navn", "nn": "Namn", "en": "Name"},
    "form.contact_email": {"nb": "E-post", "nn": "E-post", "en": "Email"},
    "form.contact_url": {"nb": "Nettadresse", "nn": "Nettadresse", "en": "Web address"},
    "form.contact_phone": {"nb": "Telefon", "nn": "Telefon", "en": "Telephone"},
    "form.phone_invalid": {
        "nb": "Telefonnummeret kan bare ha sifre, mellomrom og + først.",
        "nn": "Telefonnummeret kan berre ha siffer, mellomrom og + først.",
        "en": "The telephone number may only have digits, spaces and a leading +.",
    },
    "form.offer_comment": {
        "nb": "Om tilbudet ({lang})",
        "nn": "Om tilbodet ({lang})",
        "en": "About the offer ({lang})",
    },
    "diff.prop.hasTelephone": {"nb": "Telefon", "nn": "Telefon", "en": "Telephone"},
    "diff.prop.comment": {"nb": "Merknad", "nn": "Merknad", "en": "Comment"},
    "form.contact_hint": {
        "nb": "Oppgi e-post eller nettadresse (eller begge).",
        "nn": "Oppgi e-post eller nettadresse (eller begge).",
        "en": "Give an email or a web address (or both).",
    },
    "form.terms": {"nb": "Tilgang og vilkår", "nn": "Tilgang og vilkår", "en": "Access and terms"},
    "form.access": {"nb": "Tilgangsnivå", "nn": "Tilgangsnivå", "en": "Access rights"},
    "form.licence": {"nb": "Lisens", "nn": "Lisens", "en": "Licence"},
    "form.offer": {
        "nb": "Tilbud til kanalene",
        "nn": "Tilbod til kanalane",
        "en": "Offer to channels",
    },
    "form.offer.open": {
        "nb": "Åpent: alle kanaler kan bruke innholdet",
        "nn": "Ope: alle kanalar kan bruke innhaldet",
        "en": "Open: any channel may use the content",
    },
    "form.offer.agreement": {
        "nb": "Etter avtale: kanalene må be om avtale",
        "nn": "Etter avtale: kanalane må be om avtale",
        "en": "By agreement: channels must request one",
    },
    "form.offer.none": {
        "nb": "Ingen tilbud ennå",
        "nn": "Ikkje noko tilbod enno",
        "en": "No offer yet",
    },
    "form.purposes": {"nb": "Formål (DPV)", "nn": "Føremål (DPV)", "en": "Purposes (DPV)"},
    "form.duties": {
        "nb": "Plikter for kanalene",
        "nn": "Plikter for kanalane",
        "en": "Duties of channels",
    },
    "form.duty_attribute": {
        "nb": "Kildehenvisning",
        "nn": "Kjeldetilvising",
        "en": "Attribution",
    },
    "form.duty_refresh": {
        "nb": "Hold kopier oppdatert innen (ISO 8601-varighet, f.eks. P7D)",
        "nn": "Hald kopiar oppdaterte innan (ISO 8601-varigheit, t.d. P7D)",
        "en": "Keep copies fresh within (ISO 8601 duration, e.g. P7D)",
    },
    "form.content": {"nb": "Innhold", "nn": "Innhald", "en": "Content"},
    "form.content_file": {
        "nb": "Fil med innholdet (TriG, Turtle eller JSON-LD)",
        "nn": "Fil med innhaldet (TriG, Turtle eller JSON-LD)",
        "en": "File with the content (TriG, Turtle or JSON-LD)",
    },
    "form.content_hint": {
        "nb": "De offentlige tjenestene produktet er kilde for, beskrevet etter CPSV-AP-NO.",
        "nn": "Dei offentlege tenestene produktet er kjelde for, skildra etter CPSV-AP-NO.",
        "en": "The public services the product is the source of, described with CPSV-AP-NO.",
    },
    "form.content_kept": {
        "nb": "Innholdet fra {name} ({n} utsagn) blir med. Velg en ny fil for å bytte det ut.",
        "nn": "Innhaldet frå {name} ({n} utsegner) blir med. Vel ei ny fil for å byte det ut.",
        "en": "The content of {name} ({n} statements) is kept. Choose a new file to replace it.",
    },
    "form.content_stored": {
        "nb": "Det lagrede innholdet ({n} utsagn) beholdes hvis du ikke velger en ny fil.",
        "nn": "Det lagra innhaldet ({n} utsegner) blir halde på om du ikkje vel ei ny fil.",
        "en": "The stored content ({n} statements) is kept unless you choose a new file.",
    },
    "form.actions": {"nb": "Sjekk og lagre", "nn": "Sjekk og lagre", "en": "Check and save"},
    "form.id_invalid": {
        "nb": "Identifikatoren må bestå av a–z, 0–9 og bindestrek, og begynne med en bokstav "
        "eller et siffer.",
        "nn": "Identifikatoren må vere a–z, 0–9 og bindestrek, og byrje med ein bokstav eller "
        "eit siffer.",
        "en": "The identifier must be a–z, 0–9 and hyphens, starting with a letter or a digit.",
    },
    "form.email_invalid": {
        "nb": "E-postadressen er ikke gyldig.",
        "nn": "E-postadressa er ikkje gyldig.",
        "en": "The email address is not valid.",
    },
    "form.url_invalid": {
        "nb": "Nettadressen må begynne med https:// eller http://.",
        "nn": "Nettadressa må byrje med https:// eller http://.",
        "en": "The web address must start with https:// or http://.",
    },
    "form.duration_invalid": {
        "nb": "Oppgi fristen som en ISO 8601-varighet, for eksempel P7D (sju dager).",
        "nn": "Oppgi fristen som ei ISO 8601-varigheit, til dømes P7D (sju dagar).",
        "en": "Give the interval as an ISO 8601 duration, such as P7D (seven days).",
    },
    "form.offer_invalid": {
        "nb": "Velg et av tilbudene i listen.",
        "nn": "Vel eitt av tilboda i lista.",
        "en": "Choose one of the offers in the list.",
    },
    "form.purposes_missing": {
        "nb": "Et tilbud må ha minst ett formål.",
        "nn": "Eit tilbod må ha minst eitt føremål.",
        "en": "An offer needs at least one purpose.",
    },
    "form.choice_invalid": {
        "nb": "Velg blant verdiene i listen.",
        "nn": "Vel mellom verdiane i lista.",
        "en": "Choose among the values in the list.",
    },
    "form.date_invalid": {
        "nb": "Datoen må skrives ÅÅÅÅ-MM-DD.",
        "nn": "Datoen må skrivast ÅÅÅÅ-MM-DD.",
        "en": "The date must be written YYYY-MM-DD.",
    },
    "mine.title": {"nb": "Mine produkter", "nn": "Mine produkt", "en": "My products"},
    "mine.intro": {
        "nb": "Organisasjonens dataprodukter. Produkter som skulle vært oppdatert, står først.",
        "nn": "Dataprodukta til organisasjonen. Produkt som skulle vore oppdaterte, står først.",
        "en": "Your organisation's data products. Those overdue for an update come first.",
    },
    "mine.none": {
        "nb": "Organisasjonen har ingen registrerte produkter ennå.",
        "nn": "Organisasjonen har ingen registrerte produkt enno.",
        "en": "Your organisation has no registered products yet.",
    },
    "mine.products": {"nb": "Produkter", "nn": "Produkt", "en": "Products"},
    "mine.product": {"nb": "Produkt", "nn": "Produkt", "en": "Product"},
    "mine.quality": {"nb": "Kvalitet", "nn": "Kvalitet", "en": "Quality"},
    "mine.freshness": {"nb": "Ferskhet", "nn": "Ferskleik", "en": "Freshness"},
    "mine.due": {
        "nb": "Oppdateres innen {day}",
        "nn": "Skal oppdaterast innan {day}",
        "en": "Due {day}",
    },
    "mine.overdue": {"nb": "Forfalt {day}", "nn": "Forfall {day}", "en": "Overdue since {day}"},
    "mine.no_due": {"nb": "Ingen frist", "nn": "Inga frist", "en": "No due date"},
    "mine.edit": {"nb": "Endre", "nn": "Endre", "en": "Edit"},
    "mine.edit_of": {"nb": "Endre {title}", "nn": "Endre {title}", "en": "Edit {title}"},
    "mine.history_of": {
        "nb": "Endringshistorikk for {title}",
        "nn": "Endringshistorikk for {title}",
        "en": "Changes to {title}",
    },
    "mine.requests": {
        "nb": "Avtaleforespørsler å svare på",
        "nn": "Avtaleførespurnader å svare på",
        "en": "Agreement requests to answer",
    },
    "mine.no_requests": {
        "nb": "Ingen forespørsler venter.",
        "nn": "Ingen førespurnader ventar.",
        "en": "No requests are waiting.",
    },
}
