"""CASE import: our teaching-standards package, re-imports, dry runs, and every kind of bad
package giving its own message and changing nothing."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from microcred.catalog import services
from microcred.catalog.case import (
    CasePackageError,
    import_case_package,
    parse_package_text,
    read_package_file,
)
from microcred.catalog.demo import STANDARDS_PACKAGE
from microcred.catalog.models import StandardAssociation, StandardFramework, StandardItem
from microcred.catalog.samples import coaching_content
from microcred.orgs.models import AuditEvent

pytestmark = pytest.mark.django_db

N_ITEMS = 28  # 5 groupings, 14 standards, 9 indicators
N_OTHER_ASSOCIATIONS = 3  # isRelatedTo links; the 28 isChildOf links become parents


@pytest.fixture
def package() -> dict[str, Any]:
    return read_package_file(STANDARDS_PACKAGE)


def item_path(package: dict[str, Any], code: str) -> int:
    return next(i for i, it in enumerate(package["CFItems"]) if it["humanCodingScheme"] == code)


def child_link(package: dict[str, Any], code: str) -> dict[str, Any]:
    identifier = package["CFItems"][item_path(package, code)]["identifier"]
    return next(
        a
        for a in package["CFAssociations"]
        if a["associationType"] == "isChildOf" and a["originNodeURI"]["identifier"] == identifier
    )


def counts() -> tuple[int, int, int]:
    return (
        StandardFramework.objects.count(),
        StandardItem.objects.count(),
        StandardAssociation.objects.count(),
    )


# ---------------------------------------------------------------------------- our package
def test_imports_our_package_as_a_tree(package):
    report = import_case_package(package)

    assert report.framework_created
    assert (report.items_created, report.items_updated) == (N_ITEMS, 0)
    assert report.associations_created == N_OTHER_ASSOCIATIONS
    assert counts() == (1, N_ITEMS, N_OTHER_ASSOCIATIONS)
    framework = StandardFramework.objects.get()
    assert framework.title == package["CFDocument"]["title"]
    assert framework.identifier == uuid.UUID(package["CFDocument"]["identifier"])
    assert framework.last_change is not None
    by_code = {i.human_coding_scheme: i for i in framework.items.all()}
    # Groupings hang off the document; standards under groupings; indicators under standards.
    assert by_code["MTS.I"].parent is None
    assert by_code["MTS.1"].parent == by_code["MTS.I"]
    assert by_code["MTS.1.a"].parent == by_code["MTS.1"]
    assert by_code["MTS.6"].parent == by_code["MTS.III"]
    assert by_code["MLC.3"].parent == by_code["MLC"]
    assert [c.human_coding_scheme for c in by_code["MTS.III"].children.order_by("sequence")] == [
        "MTS.6",
        "MTS.7",
        "MTS.8",
    ]
    assert by_code["MTS.4.a"].item_type == "Indicator"
    assert by_code["MTS.4.a"].abbreviated_statement == "Foundations of early reading"
    assert AuditEvent.objects.filter(action="catalog.standards.imported").count() == 1


def test_reimport_updates_in_place_without_duplicates(package):
    import_case_package(package)
    ids = set(StandardItem.objects.values_list("pk", flat=True))

    again = import_case_package(package)
    assert not again.framework_created
    assert (again.items_created, again.items_updated, again.items_unchanged) == (0, 0, N_ITEMS)
    assert counts() == (1, N_ITEMS, N_OTHER_ASSOCIATIONS)
    assert set(StandardItem.objects.values_list("pk", flat=True)) == ids
    # Nothing changed, so nothing to audit the second time.
    assert AuditEvent.objects.filter(action="catalog.standards.imported").count() == 1

    changed = copy.deepcopy(package)
    changed["CFItems"][item_path(changed, "MTS.7")]["fullStatement"] = "A revised statement."
    report = import_case_package(changed)
    assert (report.items_created, report.items_updated) == (0, 1)
    assert StandardItem.objects.get(human_coding_scheme="MTS.7").full_statement == (
        "A revised statement."
    )
    assert set(StandardItem.objects.values_list("pk", flat=True)) == ids


def test_sequence_falls_back_to_list_enumeration(package):
    for assoc in package["CFAssociations"]:
        assoc.pop("sequenceNumber", None)
    package["CFItems"][item_path(package, "MTS.8")]["listEnumeration"] = "1"
    package["CFItems"][item_path(package, "MTS.6")]["listEnumeration"] = "3"
    import_case_package(package)
    grouping = StandardItem.objects.get(human_coding_scheme="MTS.III")
    assert [c.human_coding_scheme for c in grouping.children.order_by("sequence")] == [
        "MTS.8",
        "MTS.7",
        "MTS.6",
    ]


def test_item_type_may_come_from_its_type_link(package):
    item = package["CFItems"][item_path(package, "MTS.7")]
    del item["CFItemType"]
    item["CFItemTypeURI"] = {"title": "Standard", "identifier": str(uuid.uuid4()), "uri": "x:y"}
    import_case_package(package)
    assert StandardItem.objects.get(human_coding_scheme="MTS.7").item_type == "Standard"


def test_dry_run_reports_and_changes_nothing(package):
    report = import_case_package(package, dry_run=True)
    assert report.dry_run and report.items_created == N_ITEMS
    assert "Dry run: nothing was saved." in report.summary_lines()
    assert counts() == (0, 0, 0)
    assert not AuditEvent.objects.exists()


def test_items_left_out_are_removed_unless_aligned(package, org_tree, make_user):
    import_case_package(package)
    aligned = StandardItem.objects.get(human_coding_scheme="MLC.1")
    content = coaching_content()
    content["alignments"] = [str(aligned.identifier)]
    services.create_micro_credential(
        provider=org_tree["provider"],
        author=make_user("provider_author", org_tree["provider"]),
        content=content,
    )
    smaller = copy.deepcopy(package)
    dropped = {"MLC.1", "MTS.5"}
    gone = {it["identifier"] for it in smaller["CFItems"] if it["humanCodingScheme"] in dropped}
    smaller["CFItems"] = [it for it in smaller["CFItems"] if it["identifier"] not in gone]
    smaller["CFAssociations"] = [
        a
        for a in smaller["CFAssociations"]
        if a["originNodeURI"]["identifier"] not in gone
        and a["destinationNodeURI"]["identifier"] not in gone
    ]

    report = import_case_package(smaller)

    assert [label.split()[0] for label in report.items_removed] == ["MTS.5"]
    assert [label.split()[0] for label in report.items_kept_aligned] == ["MLC.1"]
    assert StandardItem.objects.filter(human_coding_scheme="MLC.1").exists()
    assert not StandardItem.objects.filter(human_coding_scheme="MTS.5").exists()
    # The isRelatedTo link from MLC.1's sibling stays; only links in the package are kept.
    assert StandardAssociation.objects.count() == N_OTHER_ASSOCIATIONS


# ---------------------------------------------------------------------------- bad packages
def _drop_document(p: dict[str, Any]) -> None:
    del p["CFDocument"]


def _bad_uuid(p: dict[str, Any]) -> None:
    p["CFItems"][item_path(p, "MTS.2")]["identifier"] = "MTS-2"


def _duplicate(p: dict[str, Any]) -> None:
    p["CFItems"][item_path(p, "MTS.3")]["identifier"] = p["CFItems"][item_path(p, "MTS.2")][
        "identifier"
    ]


def _no_statement(p: dict[str, Any]) -> None:
    p["CFItems"][item_path(p, "MTS.9")]["fullStatement"] = "  "


def _no_identifier(p: dict[str, Any]) -> None:
    del p["CFItems"][item_path(p, "MTS.9")]["identifier"]


def _dangling(p: dict[str, Any]) -> None:
    child_link(p, "MTS.4.b")["destinationNodeURI"]["identifier"] = str(uuid.uuid4())


def _unrelated_association(p: dict[str, Any]) -> None:
    link = next(a for a in p["CFAssociations"] if a["associationType"] == "isRelatedTo")
    link["originNodeURI"]["identifier"] = str(uuid.uuid4())
    link["destinationNodeURI"]["identifier"] = str(uuid.uuid4())


def _cycle(p: dict[str, Any]) -> None:
    # MTS.1 becomes a child of its own indicator MTS.1.a.
    indicator = p["CFItems"][item_path(p, "MTS.1.a")]
    child_link(p, "MTS.1")["destinationNodeURI"] = {
        "title": "MTS.1.a",
        "identifier": indicator["identifier"],
        "uri": indicator["uri"],
    }


def _unknown_type(p: dict[str, Any]) -> None:
    child_link(p, "MTS.2")["associationType"] = "isSiblingOf"


def _bad_date(p: dict[str, Any]) -> None:
    p["CFDocument"]["lastChangeDateTime"] = "last Tuesday"


@pytest.mark.parametrize(
    ("breaks", "path", "message"),
    [
        (_drop_document, "CFDocument", "is missing"),
        (_bad_uuid, "CFItems[3].identifier", "'MTS-2' is not a UUID"),
        (_duplicate, "CFItems[5].identifier", "is used twice (also by CFItems[3])"),
        (_no_statement, "CFItems[20].fullStatement", "is required"),
        (_no_identifier, "CFItems[20].identifier", "is required"),
        (_dangling, "destinationNodeURI", "neither the CFDocument nor an item of this package"),
        (_unrelated_association, "CFAssociations[", "neither of which is in this package"),
        (_cycle, "CFAssociations[", "cycle: MTS.1 -> MTS.1.a -> MTS.1"),
        (_unknown_type, "associationType", "'isSiblingOf' is not a CASE association type"),
        (_bad_date, "CFDocument.lastChangeDateTime", "is not an ISO 8601 date and time"),
    ],
)
def test_bad_package_names_the_problem_and_changes_nothing(
    package: dict[str, Any], breaks: Callable[[dict[str, Any]], None], path: str, message: str
):
    import_case_package(package)
    before = counts()
    statements = list(StandardItem.objects.order_by("pk").values_list("full_statement", flat=True))
    broken = copy.deepcopy(package)
    # Also change a statement, to prove the good parts of a bad file are not saved either.
    broken["CFItems"][0]["fullStatement"] = "Changed by a file that will be refused."
    breaks(broken)

    with pytest.raises(CasePackageError) as caught:
        import_case_package(broken)

    problems = [str(p) for p in caught.value.problems]
    assert any(path in p and message in p for p in problems), problems
    assert counts() == before
    assert (
        list(StandardItem.objects.order_by("pk").values_list("full_statement", flat=True))
        == statements
    )


def test_not_json_is_refused_with_its_position():
    with pytest.raises(CasePackageError) as caught:
        parse_package_text(b'{"CFDocument": {')
    assert str(caught.value.problems[0]).startswith("(file): is not valid JSON")
    assert "line 1" in str(caught.value.problems[0])


def test_a_json_list_is_not_a_package():
    with pytest.raises(CasePackageError, match="one JSON object"):
        parse_package_text("[1, 2]")


def test_items_of_another_framework_cannot_be_taken(package):
    import_case_package(package)
    other = copy.deepcopy(package)
    old, new = other["CFDocument"]["identifier"], str(uuid.uuid4())
    other["CFDocument"]["identifier"] = new
    other["CFDocument"]["title"] = "A copy with a new document identifier"
    for link in other["CFAssociations"]:
        if link["destinationNodeURI"]["identifier"] == old:
            link["destinationNodeURI"]["identifier"] = new
    with pytest.raises(CasePackageError, match="already belongs to the framework"):
        import_case_package(other)
    assert counts() == (1, N_ITEMS, N_OTHER_ASSOCIATIONS)


# ---------------------------------------------------------------------------- the command
def test_command_imports_and_summarises(capsys):
    call_command("import_case", str(STANDARDS_PACKAGE))
    out = capsys.readouterr().out
    assert f"Items: {N_ITEMS} created, 0 updated, 0 unchanged." in out
    call_command("import_case", str(STANDARDS_PACKAGE))
    assert f"Items: 0 created, 0 updated, {N_ITEMS} unchanged." in capsys.readouterr().out
    assert counts() == (1, N_ITEMS, N_OTHER_ASSOCIATIONS)


def test_command_dry_run_saves_nothing(capsys):
    call_command("import_case", str(STANDARDS_PACKAGE), "--dry-run")
    assert "Dry run: nothing was saved." in capsys.readouterr().out
    assert counts() == (0, 0, 0)


def test_command_fails_with_the_errors(tmp_path: Path, package, capsys):
    _no_statement(package)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(package), encoding="utf-8")
    with pytest.raises(CommandError, match="was not imported: 1 problem"):
        call_command("import_case", str(bad))
    assert "CFItems[20].fullStatement: is required." in capsys.readouterr().err
    assert counts() == (0, 0, 0)


def test_command_exits_non_zero_on_errors(tmp_path: Path):
    bad = tmp_path / "not-json.json"
    bad.write_text("this is not json", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        call_command_from_argv(["manage.py", "import_case", str(bad)])
    assert exited.value.code == 1
    missing = tmp_path / "missing.json"
    with pytest.raises(SystemExit):
        call_command_from_argv(["manage.py", "import_case", str(missing)])


def call_command_from_argv(argv: list[str]) -> None:
    """Run the command as `manage.py` does, where a CommandError becomes exit status 1."""
    from microcred.catalog.management.commands.import_case import Command

    Command().run_from_argv(argv)
