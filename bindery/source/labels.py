"""The words Bindery itself puts in a book (Contents, Colophon...), in the book's language.

A book can replace any of them in book.toml's ``[labels]`` table.
"""

from __future__ import annotations

from types import MappingProxyType

LABELS = {
    "en": {
        "notes": "Notes",
        "page": "page",
        "math_typeface": "Formulas are set in STIX Two Math by the STIX Fonts Project, under the same licence.",
        "note": "Note", "tip": "Tip", "warning": "Warning",
        "backlink": "Back to the text",
        "contents": "Contents", "colophon": "Colophon", "cover": "Cover",
        "titlepage": "Title page", "toc": "Contents", "bodymatter": "Start of reading",
        "backmatter": "Back matter", "landmarks": "Landmarks", "pages": "Pages",
        "by": "by", "and": "and", "identifier": "Identifier", "print_edition": "Print edition", "built_with": "Built with Bindery",
        "typeface": "The print edition is set in Linux Libertine by Philipp H. Poll, "
                    "used under the SIL Open Font License 1.1.",
    },
    "fr": {
        "notes": "Notes",
        "page": "page",
        "math_typeface": "Les formules sont composées en STIX Two Math, du STIX Fonts Project, sous la même licence.",
        "note": "Note", "tip": "Conseil", "warning": "Attention",
        "backlink": "Retour au texte",
        "contents": "Table des matières", "colophon": "Achevé d’imprimer", "cover": "Couverture",
        "titlepage": "Page de titre", "toc": "Table des matières",
        "bodymatter": "Début de la lecture", "backmatter": "Annexes",
        "landmarks": "Repères", "pages": "Pages", "by": "par", "and": "et", "identifier": "Identifiant", "print_edition": "Édition imprimée",
        "built_with": "Composé avec Bindery",
        "typeface": "L’édition imprimée est composée en Linux Libertine, de Philipp H. Poll, "
                    "sous licence SIL Open Font License 1.1.",
    },
    "de": {
        "notes": "Anmerkungen",
        "page": "Seite",
        "math_typeface": "Die Formeln sind aus der STIX Two Math des STIX Fonts Project gesetzt (gleiche Lizenz).",
        "note": "Hinweis", "tip": "Tipp", "warning": "Warnung",
        "backlink": "Zurück zum Text",
        "contents": "Inhalt", "colophon": "Impressum", "cover": "Umschlag",
        "titlepage": "Titelseite", "toc": "Inhalt", "bodymatter": "Textbeginn",
        "backmatter": "Anhang", "landmarks": "Orientierungspunkte", "pages": "Seiten",
        "by": "von", "and": "und", "identifier": "Kennung", "print_edition": "Druckausgabe", "built_with": "Erstellt mit Bindery",
        "typeface": "Die Druckausgabe ist aus der Linux Libertine von Philipp H. Poll gesetzt "
                    "(SIL Open Font License 1.1).",
    },
    "es": {
        "notes": "Notas",
        "page": "página",
        "math_typeface": "Las fórmulas están compuestas en STIX Two Math, del STIX Fonts Project, con la misma licencia.",
        "note": "Nota", "tip": "Consejo", "warning": "Advertencia",
        "backlink": "Volver al texto",
        "contents": "Índice", "colophon": "Colofón", "cover": "Cubierta",
        "titlepage": "Portada", "toc": "Índice", "bodymatter": "Inicio de la lectura",
        "backmatter": "Apéndices", "landmarks": "Puntos de referencia", "pages": "Páginas",
        "by": "por", "and": "y", "identifier": "Identificador", "print_edition": "Edición impresa", "built_with": "Hecho con Bindery",
        "typeface": "La edición impresa está compuesta en Linux Libertine, de Philipp H. Poll, "
                    "con licencia SIL Open Font License 1.1.",
    },
    "it": {
        "notes": "Note",
        "page": "pagina",
        "math_typeface": "Le formule sono composte in STIX Two Math dello STIX Fonts Project, con la stessa licenza.",
        "note": "Nota", "tip": "Suggerimento", "warning": "Avvertenza",
        "backlink": "Torna al testo",
        "contents": "Indice", "colophon": "Colophon", "cover": "Copertina",
        "titlepage": "Frontespizio", "toc": "Indice", "bodymatter": "Inizio della lettura",
        "backmatter": "Appendici", "landmarks": "Punti di riferimento", "pages": "Pagine",
        "by": "di", "and": "e", "identifier": "Identificativo", "print_edition": "Edizione a stampa", "built_with": "Realizzato con Bindery",
        "typeface": "L’edizione a stampa è composta in Linux Libertine di Philipp H. Poll, "
                    "con licenza SIL Open Font License 1.1.",
    },
    "nl": {
        "notes": "Noten",
        "page": "pagina",
        "math_typeface": "De formules zijn gezet in de STIX Two Math van het STIX Fonts Project, onder dezelfde licentie.",
        "note": "Opmerking", "tip": "Tip", "warning": "Waarschuwing",
        "backlink": "Terug naar de tekst",
        "contents": "Inhoud", "colophon": "Colofon", "cover": "Omslag",
        "titlepage": "Titelpagina", "toc": "Inhoud", "bodymatter": "Begin van de tekst",
        "backmatter": "Nawerk", "landmarks": "Oriëntatiepunten", "pages": "Pagina’s",
        "by": "door", "and": "en", "identifier": "Identificatie", "print_edition": "Gedrukte editie", "built_with": "Gemaakt met Bindery",
        "typeface": "De gedrukte editie is gezet in de Linux Libertine van Philipp H. Poll, "
                    "onder de SIL Open Font License 1.1.",
    },
    "pt": {
        "notes": "Notas",
        "page": "página",
        "math_typeface": "As fórmulas foram compostas em STIX Two Math, do STIX Fonts Project, sob a mesma licença.",
        "note": "Nota", "tip": "Dica", "warning": "Aviso",
        "backlink": "Voltar ao texto",
        "contents": "Sumário", "colophon": "Colofão", "cover": "Capa",
        "titlepage": "Folha de rosto", "toc": "Sumário", "bodymatter": "Início da leitura",
        "backmatter": "Apêndices", "landmarks": "Pontos de referência", "pages": "Páginas",
        "by": "por", "and": "e", "identifier": "Identificador", "print_edition": "Edição impressa", "built_with": "Feito com Bindery",
        "typeface": "A edição impressa foi composta em Linux Libertine, de Philipp H. Poll, "
                    "sob a licença SIL Open Font License 1.1.",
    },
}

KEYS = frozenset(LABELS["en"])


def labels_for(language: str, overrides: dict[str, str] | None = None) -> MappingProxyType:
    """The labels for a BCP 47 ``language``, English where it has none, then ``overrides``."""
    primary = language.split("-")[0].lower()
    labels = {**LABELS["en"], **LABELS.get(primary, {}), **(overrides or {})}
    return MappingProxyType(labels)
