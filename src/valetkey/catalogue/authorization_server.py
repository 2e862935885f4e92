"""placeholder"""

from valetkey.catalogue.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
