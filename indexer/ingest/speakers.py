"""Who is speaking: a transcript label or a title turned into a display name and a role.

`MS. PSAKI` in "Press Briefing by Press Secretary Jen Psaki" is Jen Psaki;
`THE PRESIDENT` on a 2022 page is Joe Biden; where nothing in the document
names the speaker, the label is kept in readable case ("Ms. Psaki").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, cached_property

from rapidfuzz import fuzz, process

from ..records import Document, Turn

HONORIFICS = {"MR": "Mr.", "MS": "Ms.", "MRS": "Mrs.", "DR": "Dr.", "MX": "Mx.", "MISS": "Miss", "M": "Ms."}

PRESIDENTS = (
    ("Barack Obama", "2009-01-20", "2017-01-20"),
    ("Donald Trump", "2017-01-20", "2021-01-20"),
    ("Joe Biden", "2021-01-20", "2025-01-20"),
    ("Donald Trump", "2025-01-20", "2029-01-20"),
)
OFFICE_HOLDERS = {
    "THE PRESIDENT": PRESIDENTS,
    "THE VICE PRESIDENT": (
        ("Joe Biden", "2009-01-20", "2017-01-20"),
        ("Mike Pence", "2017-01-20", "2021-01-20"),
        ("Kamala Harris", "2021-01-20", "2025-01-20"),
        ("JD Vance", "2025-01-20", "2029-01-20"),
    ),
    "THE FIRST LADY": (
        ("Michelle Obama", "2009-01-20", "2017-01-20"),
        ("Melania Trump", "2017-01-20", "2021-01-20"),
        ("Jill Biden", "2021-01-20", "2025-01-20"),
        ("Melania Trump", "2025-01-20", "2029-01-20"),
    ),
    "THE SECOND GENTLEMAN": (("Douglas Emhoff", "2021-01-20", "2025-01-20"),),
}
OFFICE_ALIASES = {
    "PRESIDENT": "THE PRESIDENT",
    "VICE PRESIDENT": "THE VICE PRESIDENT",
    "FIRST LADY": "THE FIRST LADY",
    "SECOND GENTLEMAN": "THE SECOND GENTLEMAN",
}

FIXED_ROLES = {
    "Q": "reporter",
    "REPORTER": "reporter",
    "PRESS": "reporter",
    "MODERATOR": "moderator",
    "OPERATOR": "other",
    "AUDIENCE": "other",
    "AUDIENCE MEMBER": "other",
    "AUDIENCE MEMBERS": "other",
    "PARTICIPANT": "other",
    "PARTICIPANTS": "other",
    "INTERPRETER": "other",
    "CHILD": "other",
    "CHILDREN": "other",
    "CROWD": "other",
    "STUDENT": "other",
    "STUDENTS": "other",
    "NARRATOR": "other",
    "ANNOUNCER": "other",
    "VIDEO": "other",
    "PROTESTER": "other",
    "HECKLER": "other",
    "THE PRESIDENT": "official",
    "THE VICE PRESIDENT": "official",
    "THE FIRST LADY": "official",
    "THE SECOND GENTLEMAN": "official",
    "SENIOR ADMINISTRATION OFFICIAL": "official",
}

ROLE_WORDS = {
    "OFFICIAL", "OFFICIALS", "AIDE", "PRESIDENT", "SECRETARY", "ADMINISTRATOR", "DIRECTOR",
    "CHAIR", "CHAIRMAN", "CHAIRWOMAN", "AMBASSADOR", "SENATOR", "GOVERNOR", "MAYOR",
    "REPRESENTATIVE", "CONGRESSMAN", "CONGRESSWOMAN", "MINISTER", "CHANCELLOR", "KING",
    "QUEEN", "PRINCE", "GENERAL", "ADMIRAL", "COLONEL", "CAPTAIN", "ADVISOR", "ADVISER",
    "SPOKESPERSON", "SPOKESMAN", "SURGEON", "CHIEF", "COMMISSIONER", "DEPUTY", "COORDINATOR",
    "MEMBER", "MEMBERS", "SPEAKER", "LEADER", "ATTORNEY", "JUSTICE", "COACH", "CREW",
    "PHOTOJOURNALIST", "ENVOY", "COUNSELOR", "COUNSEL", "APNSA", "NSC", "STAFF", "LADY",
    "GENTLEMAN", "PREMIER", "EMIR", "SHEIKH", "SULTAN", "POPE", "LIEUTENANT", "SERGEANT",
    "DOD", "DHS", "FBI", "FAA", "TREASURY", "TSAOISEACH", "TAOISEACH",
} | set(FIXED_ROLES)

NOT_SPEAKERS = {
    "NOTE", "SUBJECT", "END", "COVID", "COVID-19", "NATO", "CBS", "UPDATE", "WHEREAS",
    "BACKGROUND", "PURPOSE", "SECTION", "SEC", "WHAT", "WHY", "HOW", "WHEN", "WHERE", "NEW",
    "EMBARGOED", "ATTACHMENT", "RE", "FROM", "TO", "CC", "PS", "P.S", "LOCATION", "TIME",
}

TITLE_WORDS = {
    "The", "President", "Vice", "Press", "Secretary", "Deputy", "Principal", "Director",
    "Administrator", "Acting", "Chair", "Chairman", "Chairwoman", "Ambassador", "Senator",
    "Governor", "Mayor", "Representative", "Congressman", "Congresswoman", "Minister",
    "Prime", "Chancellor", "General", "Admiral", "Colonel", "Advisor", "Adviser", "National",
    "Security", "Homeland", "Surgeon", "Chief", "Staff", "Commissioner", "Coordinator",
    "Spokesperson", "Counselor", "Senior", "Assistant", "Special", "Envoy", "First", "Lady",
    "Second", "Gentleman", "Dr", "Mr", "Ms", "Mrs", "Mx", "Miss", "And", "By", "With", "Of",
    "On", "For", "From", "To", "In", "At", "Briefing", "Gaggle", "Call", "Remarks",
    "Statement", "Readout", "Council", "Economic", "Domestic", "Policy", "White", "House",
    "Communications", "Department", "Defense", "State", "Health", "Human", "Services",
    "Agency", "Office", "Management", "Budget", "Lieutenant", "Rear", "Vice", "Dear",
    "Honorable", "Her", "His", "Majesty", "Excellency", "Leader", "Speaker", "Attorney",
    "Justice", "Sen", "Rep", "Gov", "Sec", "Amb", "Gen", "Adm", "NSC", "Climate", "Senior",
    "COVID", "Response", "Team", "Public", "Officials", "Official", "Administration", "U.S",
    "United", "States", "America", "American", "Americans", "Mister", "Madam", "Supreme",
    "Court", "Treasury", "Transportation", "Energy", "Education", "Labor", "Commerce",
    "Agriculture", "Interior", "Veterans", "Affairs", "Housing", "Trade", "Infrastructure",
    "Implementation", "Cybersecurity", "Emerging", "Technology", "Strategic", "Coordinator",
    "Director", "Kennedy", "Ambassadors", "Today", "Thank", "Thanks", "Okay", "Well", "So",
    "Doctors", "Administer", "Innovation", "Secretaries", "Governors", "Mayors", "Senators",
}

_LABEL = re.compile(r"^(?P<label>[A-Z][A-Z0-9 .,'’&\-\[\]#/()]{0,60}?)\s*:(?:\s+(?P<rest>.*)|$)", re.S)
_QUESTION = re.compile(r"^Q(?:\s*[:.]\s*|\s+|$)(?P<rest>.*)", re.S)
_DOMINANT_SHARE = 0.6


@dataclass(frozen=True)
class Speaker:
    label: str
    name: str
    role: str


def split_label(paragraph: str) -> tuple[str, str] | None:
    """(label, rest of the paragraph) if the paragraph opens with a speaker label."""
    match = _QUESTION.match(paragraph)
    if match:
        return "Q", match.group("rest") or ""
    match = _LABEL.match(paragraph)
    if not match:
        return None
    label = " ".join(match.group("label").split())
    if not _is_speaker_label(label):
        return None
    return label, match.group("rest") or ""


def is_person_label(label: str) -> bool:
    """A label that can only be a speaker: `Q`, `MS. PSAKI`, `THE PRESIDENT`, `SECRETARY MAYORKAS`.

    A lone word (`FACT:`, `NATO:`) may be a heading; these cannot.
    """
    words = label.split()
    return (
        label == "Q"
        or (words[0].rstrip(".") in HONORIFICS and len(words) > 1)
        or label.startswith("THE ")
        or any(word.rstrip(".,") in ROLE_WORDS for word in words)
    )


def _is_speaker_label(label: str) -> bool:
    words = label.replace("[", " ").replace("]", " ").split()
    if not words or len(words) > 7 or not any(ch.isalpha() for ch in label):
        return False
    if words[0] in NOT_SPEAKERS or label in NOT_SPEAKERS or words[0] in ("TO", "FOR"):
        return False
    if words[0].rstrip(".") in HONORIFICS and len(words) > 1:
        return True
    if label.startswith("THE ") or len(words) == 1:
        return True
    return any(word.rstrip(".,") in ROLE_WORDS for word in words)


class SpeakerResolver:
    """Resolves the labels of one document, using its title and text as the source of names."""

    def __init__(self, doc: Document):
        self.doc = doc
        self._cache: dict[str, Speaker] = {}

    def resolve(self, label: str) -> Speaker:
        if label not in self._cache:
            self._cache[label] = self._resolve(label)
        return self._cache[label]

    def author(self) -> Speaker:
        """Who a written statement is by: the title's "Statement by X", a signature, or the White House."""
        who = _author_in_title(self.doc.title)
        if who:
            name = self._name_from_phrase(who)
            if name:
                return Speaker(label=who, name=name, role="official")
        if self._signed_by_president():
            return Speaker(label="signature", name=self.doc.president, role="official")
        return Speaker(label="", name="The White House", role="official")

    def _resolve(self, label: str) -> Speaker:
        canonical = _canonical_fixed_label(label)
        if canonical in OFFICE_HOLDERS:
            holder = self._office_holder(canonical)
            return Speaker(label, holder or readable(canonical), "official")
        if canonical in FIXED_ROLES:
            name = "Reporter" if canonical == "Q" else readable(canonical)
            return Speaker(label, name, FIXED_ROLES[canonical])
        words = label.split()
        first = words[0].rstrip(".")
        if first in ("REPORTER", "JOURNALIST", "PHOTOJOURNALIST") or label.startswith("AUDIENCE"):
            return Speaker(label, readable(label), "reporter" if first != "AUDIENCE" else "other")
        if "OFFICIAL" in label and (len(words) <= 3 or "ADMINISTRATION" in label):
            return Speaker(label, readable(label), "official")
        surname = _surname(words)
        office = " ".join(words[:-1])
        if OFFICE_ALIASES.get(office) and self._is_office_holder(OFFICE_ALIASES[office], surname):
            return Speaker(label, self._office_holder(OFFICE_ALIASES[office]), "official")
        name = self.full_name(surname) if surname else None
        return Speaker(label, name or readable(label), "official")

    def full_name(self, surname: str) -> str | None:
        """The document's own full name for a surname: title first, then body; typos allowed."""
        if self._is_office_holder("THE PRESIDENT", surname):
            return self.doc.president
        names = self._names_in_document
        if surname in names:
            return names[surname]
        match = process.extractOne(surname, list(names), scorer=fuzz.ratio, score_cutoff=85)
        return names[match[0]] if match else None

    def _office_holder(self, office: str) -> str | None:
        if office == "THE PRESIDENT" and self.doc.president:
            return self.doc.president
        for name, start, end in OFFICE_HOLDERS[office]:
            if self.doc.date and start <= self.doc.date < end:
                return name
        return None

    def _is_office_holder(self, office: str, surname: str | None) -> bool:
        holder = self._office_holder(office)
        return bool(holder and surname and holder.split()[-1].lower() == surname.lower())

    def _name_from_phrase(self, phrase: str) -> str | None:
        """The person a title names: the trailing run of name words after any office words.

        "NEC Director Brian Deese" -> "Brian Deese"; "the President" -> the sitting
        president; "Vice President Harris" -> Kamala Harris; "the Leaders of the
        United States and Japan" -> None (not one person).
        """
        words = phrase.replace("’s", "").split()
        name: list[str] = []
        while words and _is_name_word(words[-1]):
            name.insert(0, words.pop())
        office = " ".join(w for w in words if w.lower() != "the").upper()
        holder_key = OFFICE_ALIASES.get(office)
        if holder_key and (not name or self._is_office_holder(holder_key, name[-1])):
            return self._office_holder(holder_key)
        if not name or (words and words[-1].lower() in ("of", "the", "and")):
            return None
        if len(name) == 1:
            office_word = words[-1:] if words and words[-1] in TITLE_WORDS else []
            return self.full_name(name[0]) or (" ".join([*office_word, *name]) if office_word else None)
        return " ".join(name)

    def _signed_by_president(self) -> bool:
        last = self.doc.paragraphs[-1]
        president = self.doc.president
        return bool(president and last.isupper() and len(last.split()) <= 6
                    and president.split()[-1].upper() in last)

    @cached_property
    def _names_in_document(self) -> dict[str, str]:
        """Surname -> most frequent "First [M.] Surname" written in the title and body."""
        counts: Counter[tuple[str, str]] = Counter()
        for weight, text in ((1000, self.doc.title), (1, " ".join(self.doc.paragraphs))):
            for first, middle, surname in _NAME.findall(text):
                if first in TITLE_WORDS or surname in TITLE_WORDS:
                    continue
                full = " ".join(part for part in (first, middle, surname) if part)
                counts[(surname, full)] += weight
        names: dict[str, str] = {}
        for (surname, full), _ in counts.most_common():
            names.setdefault(surname, full)
        return names


# A lookahead, so that matches overlap: in "Press Secretary Jen Psaki" the pair
# "Secretary Jen" must not use up "Jen" before "Jen Psaki" is tried.
_NAME = re.compile(
    r"(?=\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\s+(?:([A-Z]\.)\s+)?((?:Mc|Mac|O’|O'|De|Di|La|Le)?[A-Z][a-z]+(?:[-’'][A-Z][a-z]+)?)\b)"
)


def _is_name_word(word: str) -> bool:
    """A word of a person's name as titles write it: "Karine", "Jean-Pierre", "O’Connor", "R."."""
    bare = word.rstrip(".,")
    return bool(re.fullmatch(r"[A-Z][a-z]*(?:[-’'][A-Z][a-z]+)*|[A-Z]\.?", word)) and bare not in TITLE_WORDS


def _surname(words: list[str]) -> str | None:
    """The last word of a label, in the case a name is written in: "JEAN-PIERRE" -> "Jean-Pierre"."""
    last = words[-1].strip(".,")
    if not last or last in ROLE_WORDS or not any(ch.isalpha() for ch in last):
        return None
    return name_case(last)


def name_case(word: str) -> str:
    cased = re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), word.lower())
    return re.sub(r"^(Mc|Mac)([a-z])", lambda m: m.group(1) + m.group(2).upper(), cased)


@cache  # called for every turn of every document on each build, with a few thousand distinct labels
def readable(label: str) -> str:
    """`MS. PSAKI` -> "Ms. Psaki"; `SENIOR ADMINISTRATION OFFICIAL` -> "Senior Administration Official"."""
    words = []
    for word in label.split():
        bare = word.rstrip(".")
        if bare in HONORIFICS and not words:
            words.append(HONORIFICS[bare])
        elif bare in ("NSC", "APNSA", "DOD", "DHS", "FBI", "FAA", "USAID", "NASA", "U.S"):
            words.append(word)
        else:
            words.append(name_case(word))
    return " ".join(words)


def _canonical_fixed_label(label: str) -> str:
    """Fix typed labels such as `MODERTOR` or `THE PRESIDNET` by fuzzy match to the fixed ones."""
    if label in FIXED_ROLES or label in OFFICE_HOLDERS:
        return label
    if len(label) < 6:
        return label
    same_length = [fixed for fixed in FIXED_ROLES if len(fixed.split()) == len(label.split())]
    match = process.extractOne(label, same_length, scorer=fuzz.ratio, score_cutoff=85)
    return match[0] if match else label


_AUTHOR = re.compile(
    r"^(?:Joint\s+)?(?:Statement|Remarks(?:\s+as\s+Prepared(?:\s+for\s+Delivery)?)?|Op-Ed|Message|"
    r"Excerpts\s+(?:of|from)\s+Remarks|Pre-Taped\s+Remarks|Video\s+Remarks|Letter|Readout\s+of\s+Remarks)"
    r"\s+(?:by|from|of)\s+(?P<who>.+?)"
    r"(?=\s+(?i:on|at|in|to|for|regarding|about|during|after|before|with|and|ahead|upon|following|as)\b"
    r"|\s+[A-Z][a-z]+ing\b|[,:;–—]|$)"
)


def _author_in_title(title: str) -> str | None:
    match = _AUTHOR.match(title.strip())
    return match.group("who").strip() if match else None


def name_from_other_documents(turns: list[Turn]) -> None:
    """Give a label no document named ("MR. ZIENTS" in a COVID briefing) the full name
    that other documents give the same surname, when one name clearly dominates."""
    names_by_surname: dict[str, Counter[str]] = {}
    for turn in turns:
        if turn.role == "official" and turn.speaker != readable(turn.label):
            names_by_surname.setdefault(turn.speaker.split()[-1], Counter())[turn.speaker] += 1
    for turn in turns:
        if turn.role != "official" or turn.speaker != readable(turn.label):
            continue
        surname = _surname(turn.label.split())
        counts = names_by_surname.get(surname)
        if counts:
            name, count = counts.most_common(1)[0]
            if count >= _DOMINANT_SHARE * sum(counts.values()):
                turn.speaker = name
