"""A zone's records as the DNS pane lists them, searchable, for zones of hundreds of thousands of records.

Made once per zone (in a worker for a big cluster): each record's zone-file line in lower case, which the filter
searches, and the widest name and data, which size the columns. :meth:`RecordIndex.filter` narrows from the
closest earlier answer (typing ``web`` after ``we`` searches only what ``we`` found; clearing the filter or
going back a letter costs nothing), so a filter typed letter by letter scans the whole zone once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

CACHED = 64  # filter answers kept


def relative(name: str, origin: str) -> str:
    """``name`` relative to ``origin`` (both absolute) as a zone file writes it: ``@`` for the origin itself."""
    low, org = name.lower(), origin.lower()
    if low == org:
        return "@"
    if low.endswith("." + org):
        return name[: -len(origin) - 1]
    return name


def relative_data(data: str, origin: str) -> str:
    """The names inside rdata (SRV, PTR, CNAME, NS and SOA targets) relative to ``origin``; addresses untouched."""
    return " ".join(relative(w, origin) if w.endswith(".") else w for w in data.split(" "))


class RecordIndex:
    """``records`` (``tui.dns.records.Record``) with their filter lines, under ``origin`` (absolute, final dot)."""

    def __init__(self, records: Sequence, origin: str) -> None:
        self.records = records
        self.origin = origin
        self.lines = [r.text().lower() for r in records]
        self.name_width = max((len(relative(r.name, origin)) for r in records), default=4)
        self.data_width = max((len(relative_data(r.data, origin)) for r in records if r.type != "SOA"), default=4)
        self._answers: OrderedDict[tuple[str, ...], Sequence[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.records)

    def filter(self, text: str) -> Sequence[int]:
        """The positions of the records whose line holds every word of ``text`` (case-insensitive), in order."""
        words = tuple(sorted(set(text.lower().split())))
        if not words:
            return range(len(self.records))
        found = self._answers.get(words)
        if found is not None:
            self._answers.move_to_end(words)
            return found
        base: Sequence[int] = range(len(self.records))
        for key, answer in self._answers.items():
            # every record holding ``words`` holds ``key`` too when each word of ``key`` lies inside one of ``words``
            if len(answer) < len(base) and all(any(k in w for w in words) for k in key):
                base = answer
        lines = self.lines
        if len(words) == 1:
            w = words[0]
            found = [i for i in base if w in lines[i]]
        else:
            found = [i for i in base if all(w in lines[i] for w in words)]
        self._answers[words] = found
        if len(self._answers) > CACHED:
            self._answers.popitem(last=False)
        return found

    def row(self, i: int) -> tuple[str, str, str, str]:
        """Record ``i`` as the table's cells: name (relative), type, TTL, data (names relative)."""
        r = self.records[i]
        return relative(r.name, self.origin), r.type, str(r.ttl), relative_data(r.data, self.origin)
