"""The NDC directory → an index from application number and ingredient to the package NDCs claims carry."""

from __future__ import annotations

from coach.adapters.feed_state import MemoryFeedState
from coach.feeds.ndc_directory import NdcResolver, application_key, build_index, poll_ndc_directory
from coach.feeds.tables import Bundle

from tests.unit.feed_fixtures import FIXTURES, copy_of, replace_line

DIRECTORY = Bundle.from_path(FIXTURES / "ndctext")


def test_applications_and_ingredients_resolve_to_eleven_digit_package_ndcs():
    entries = build_index(DIRECTORY).entries
    assert entries["appl:NDA019658"] == "11523716001,11523716003"  # the sample pouch (-9) is not claimed
    assert entries["appl:ANDA076011"] == "00904580661"  # 4-4-2 package code padded
    assert entries["ingredient:loratadine"] == "00904580661,11523716001,11523716003,11523716402"
    assert entries["ingredient:loratadine; pseudoephedrine sulfate"] == "11523717201"


def test_every_source_spells_an_application_the_same_way():
    assert application_key("NDA", "019658") == application_key("N", "19658") == "NDA019658"
    assert application_key("A", "076011") == "ANDA076011"


def test_a_poll_replaces_the_index_so_a_delisted_product_is_forgotten(tmp_path):
    state = MemoryFeedState()
    first = poll_ndc_directory(DIRECTORY, state)
    assert first.candidates == [] and first.indexed == 8
    assert NdcResolver(state).for_applications(["NDA021436", "NDA020641"]) == {"NDA021436": ["59148000613"]}
    folder = copy_of("ndctext", tmp_path)
    replace_line(folder / "product.txt", "NDA021436", "")
    second = poll_ndc_directory(Bundle.from_path(folder), state)
    assert second.unchanged == 7
    assert NdcResolver(state).for_applications(["NDA021436"]) == {}


def test_before_any_poll_the_resolver_says_it_has_nothing():
    resolver = NdcResolver(MemoryFeedState())
    assert not resolver.loaded and resolver.for_applications(["NDA019658"]) == {}
