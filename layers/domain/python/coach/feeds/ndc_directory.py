"""Source 4, the NDC directory (`ndctext.zip`: tab-delimited `product.txt` and `package.txt`): which package NDCs
the claims carry for an application number (`NDA019658`) or an ingredient. It raises no candidate itself; a poll
rebuilds the index the other sources resolve NDCs with."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from coach.feeds.candidate import PollResult, content_hash
from coach.feeds.tables import Bundle, read_table
from coach.ndc import InvalidNdc, normalise_ndc
from coach.ports import FeedState

SOURCE = "ndc-directory"
ENCODING = (
    "cp1252"  # the directory is plain ASCII in practice; cp1252 reads any stray byte rather than failing
)
PRODUCT_COLUMNS = ("PRODUCTID", "PRODUCTNDC", "PRODUCTTYPENAME", "APPLICATIONNUMBER", "SUBSTANCENAME")
PACKAGE_COLUMNS = ("PRODUCTID", "NDCPACKAGECODE")
_APPLICATION_TYPES = {"N": "NDA", "A": "ANDA", "B": "BLA", "NDA": "NDA", "ANDA": "ANDA", "BLA": "BLA"}


def application_key(appl_type: str, appl_no: str) -> str:
    """One spelling of an application for every source: Drugs@FDA `NDA` + `019658`, the Orange Book `N` +
    `019658` and the directory's `NDA019658` all become `NDA019658`."""
    kind = _APPLICATION_TYPES.get(appl_type.strip().upper(), appl_type.strip().upper())
    return f"{kind}{appl_no.strip().zfill(6)}"


def ingredient_key(ingredient: str) -> str:
    return " ".join(ingredient.lower().replace(";", "; ").split())


@dataclass(frozen=True)
class NdcIndex:
    entries: dict[str, str]  # "appl:NDA019658" / "ingredient:loratadine" → comma-separated 11-digit NDCs
    skipped_packages: int  # package codes that are not readable NDCs, and sample packages


def build_index(bundle: Bundle) -> NdcIndex:
    products = read_table(bundle, "product.txt", delimiter="\t", encoding=ENCODING, required=PRODUCT_COLUMNS)
    packages = read_table(bundle, "package.txt", delimiter="\t", encoding=ENCODING, required=PACKAGE_COLUMNS)
    keys_of_product: dict[str, list[str]] = {}
    for row in products:
        keys = []
        application = row["applicationnumber"].upper()
        if application[:3] in ("NDA", "BLA") or application.startswith("ANDA"):
            kind = "ANDA" if application.startswith("ANDA") else application[:3]
            keys.append(f"appl:{application_key(kind, application[len(kind) :])}")
        if row["substancename"]:
            keys.append(f"ingredient:{ingredient_key(row['substancename'])}")
        keys_of_product[row["productid"]] = keys
    found: dict[str, set[str]] = defaultdict(set)
    skipped = 0
    for row in packages:
        if row.get("sample_package", "").upper() == "Y":
            skipped += 1  # samples are handed out, never claimed
            continue
        try:
            ndc = normalise_ndc(row["ndcpackagecode"])
        except InvalidNdc:
            skipped += 1
            continue
        for key in keys_of_product.get(row["productid"], []):
            found[key].add(ndc)
    return NdcIndex({key: ",".join(sorted(ndcs)) for key, ndcs in found.items()}, skipped)


def poll_ndc_directory(bundle: Bundle, state: FeedState) -> PollResult:
    index = build_index(bundle)
    before = state.get_values(SOURCE, index.entries)
    unchanged = sum(1 for key, value in index.entries.items() if before.get(key) == value)
    state.replace_values(SOURCE, index.entries)
    state.set_watermark(SOURCE, content_hash(index.entries))
    result = PollResult(SOURCE, unchanged=unchanged, indexed=len(index.entries))
    if index.skipped_packages:
        result.warnings.append(
            f"{index.skipped_packages} package rows skipped (sample packages or unreadable NDCs)"
        )
    return result


class NdcResolver:
    """Package NDCs from the last polled NDC directory (the state the ndc-directory poll wrote)."""

    def __init__(self, state: FeedState) -> None:
        self._state = state
        self.loaded = state.get_watermark(SOURCE) is not None

    def ndcs(self, keys: list[str]) -> dict[str, list[str]]:
        values = self._state.get_values(SOURCE, keys) if self.loaded else {}
        return {key: values[key].split(",") for key in keys if values.get(key)}

    def for_applications(self, applications: list[str]) -> dict[str, list[str]]:
        """Application key (`NDA019658`) → its package NDCs, for those the directory lists."""
        found = self.ndcs([f"appl:{a}" for a in applications])
        return {key.removeprefix("appl:"): ndcs for key, ndcs in found.items()}
