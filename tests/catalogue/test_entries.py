"""The catalogue is complete, and every family implements exactly its ids."""

from __future__ import annotations

import re

import pytest

from valetkey import catalogue
from valetkey.catalogue import Entry, Family, UnknownCheckId
from valetkey.catalogue.entry import rfc_links

ALL = catalogue.entries()


def _ids(family: Family) -> set[str]:
    return {entry.id for entry in catalogue.entries(family)}


def test_ids_are_unique_and_canonical() -> None:
    ids = [entry.id for entry in ALL]
    assert len(ids) == len(set(ids)) == 91
    for entry in ALL:
        assert catalogue.normalise(entry.id) == entry.id
        assert re.fullmatch(r"(AS|LC|MS)-\d\d|OA1\d\d", entry.id)


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.id)
def test_entry_is_complete(entry: Entry) -> None:
    for text in (entry.slug, entry.title, entry.clause, entry.what, entry.why, entry.fix):
        assert text.strip() == text
        assert text
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.slug)
    assert entry.title.endswith(".")
    assert entry.bad.text.strip()
    assert entry.good.text.strip()
    assert entry.bad.text != entry.good.text
    assert entry.bad.language == entry.good.language
    assert entry.bad.language in ("http", "python")
    assert entry.links()


def test_slugs_are_unique() -> None:
    slugs = [entry.slug for entry in ALL]
    assert len(slugs) == len(set(slugs))


def test_probe_server_implements_every_as_id_and_no_other() -> None:
    from valetkey.probe.server_checks import SERVER_CHECKS

    assert {check_id for check_id, _ in SERVER_CHECKS} == _ids(Family.AS)


def test_probe_client_implements_every_lc_id_and_no_other() -> None:
    from valetkey.probe.client_checks import CLIENT_CHECKS

    assert {check_id for check_id, _ in CLIENT_CHECKS} == _ids(Family.LC)


def test_auditor_implements_every_oa_id_and_no_other() -> None:
    from valetkey.audit.checks import all_checks

    assert {check.id for check in all_checks()} == _ids(Family.OA)


def test_mcp_probe_implements_every_ms_id_and_none_is_planned() -> None:
    from valetkey.probe.mcp_server_checks import MCP_SERVER_CHECKS

    assert {check_id for check_id, _check in MCP_SERVER_CHECKS} == _ids(Family.MS)
    assert len(_ids(Family.MS)) == 10
    assert [entry.id for entry in ALL if entry.planned] == []


def test_sandbox_checks_name_as_ids_or_none() -> None:
    import valetkey.provider.app  # noqa: F401 - imports every endpoint's check table
    from valetkey.provider.checks import REGISTRY

    named = {check.id for check in REGISTRY if check.id}
    assert named <= _ids(Family.AS)
    assert {"AS-04", "AS-08", "AS-23", "AS-43"} <= named


def test_audit_checks_take_their_metadata_from_the_catalogue() -> None:
    from valetkey.audit.checks import all_checks

    for check in all_checks():
        entry = catalogue.lookup(check.id)
        assert entry is not None
        assert (check.slug, check.severity, check.clause, check.fix) == (
            entry.slug,
            entry.severity,
            entry.clause,
            entry.fix,
        )
        assert check.summary == entry.title
        assert check.examples() == (entry.bad.text, entry.good.text)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("as-23", "AS-23"),
        ("AS23", "AS-23"),
        (" lc-14 ", "LC-14"),
        ("Lc-4", "LC-04"),
        ("oa103", "OA103"),
        ("OA-103", "OA103"),
        ("ms-1", "MS-01"),
        ("XY-1", "XY-1"),
    ],
)
def test_ids_are_read_in_any_case(written: str, canonical: str) -> None:
    assert catalogue.normalise(written) == canonical


def test_closest_ids_are_nearest_by_number_in_the_family() -> None:
    assert catalogue.closest("AS-37") == ["AS-36", "AS-38", "AS-35"]
    assert catalogue.closest("oa99") == ["OA101", "OA102", "OA103"]
    assert catalogue.lookup("AS-37") is None


def test_clause_links_point_at_rfc_sections() -> None:
    assert rfc_links("RFC 6749 §10.12, §4.1; RFC 9207") == (
        "https://www.rfc-editor.org/rfc/rfc6749#section-10.12",
        "https://www.rfc-editor.org/rfc/rfc6749#section-4.1",
        "https://www.rfc-editor.org/rfc/rfc9207",
    )


def test_a_probe_server_check_with_an_unknown_id_fails_at_import() -> None:
    from valetkey.probe.server_checks import server_check

    with pytest.raises(UnknownCheckId) as raised:
        server_check("AS-37")(lambda s: None)  # type: ignore[arg-type,return-value]
    assert str(raised.value) == (
        "probe server check <lambda> names check id 'AS-37', which is not a AS id of the "
        "check catalogue (valetkey.catalogue); closest: AS-36, AS-38, AS-35. "
        "Add its entry or fix the id."
    )


def test_a_probe_client_check_with_an_id_of_another_family_fails() -> None:
    from valetkey.probe.client_checks import client_check

    with pytest.raises(UnknownCheckId, match="names check id 'AS-01', which is not a LC id"):
        client_check("AS-01")(lambda s: None)  # type: ignore[arg-type,return-value]


def test_a_sandbox_check_with_an_unknown_id_fails_and_an_empty_id_is_allowed() -> None:
    from valetkey.provider.checks import REGISTRY, check

    before = len(REGISTRY)
    with pytest.raises(UnknownCheckId, match="provider check rule names check id 'AS-99'"):

        @check("AS-99", "RFC 6749 §3.1")
        def rule(ctx: object) -> None:
            """A rule with an id the catalogue lacks."""

    assert len(REGISTRY) == before
    check("", "RFC 6749 §3.1")(lambda ctx: None)
    assert REGISTRY.pop().id == ""


def test_an_audit_check_with_an_unknown_id_fails_at_import() -> None:
    from valetkey.audit.registry import REGISTRY, check

    with pytest.raises(UnknownCheckId, match="audit check <lambda> names check id 'OA999'"):
        check("OA999")(lambda module, config: ())
    assert "OA999" not in REGISTRY
