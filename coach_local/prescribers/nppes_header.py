"""The published header of the NPPES Data Dissemination file (`npidata_pfile_YYYYMMDD-YYYYMMDD.csv`, CMS), in
order: 330 columns, every one quoted in the file. Written out as CMS lays it out (the repeated groups by number)."""

from __future__ import annotations

_HEAD = (
    "NPI",
    "Entity Type Code",
    "Replacement NPI",
    "Employer Identification Number (EIN)",
    "Provider Organization Name (Legal Business Name)",
    "Provider Last Name (Legal Name)",
    "Provider First Name",
    "Provider Middle Name",
    "Provider Name Prefix Text",
    "Provider Name Suffix Text",
    "Provider Credential Text",
    "Provider Other Organization Name",
    "Provider Other Organization Name Type Code",
    "Provider Other Last Name",
    "Provider Other First Name",
    "Provider Other Middle Name",
    "Provider Other Name Prefix Text",
    "Provider Other Name Suffix Text",
    "Provider Other Credential Text",
    "Provider Other Last Name Type Code",
    "Provider First Line Business Mailing Address",
    "Provider Second Line Business Mailing Address",
    "Provider Business Mailing Address City Name",
    "Provider Business Mailing Address State Name",
    "Provider Business Mailing Address Postal Code",
    "Provider Business Mailing Address Country Code (If outside U.S.)",
    "Provider Business Mailing Address Telephone Number",
    "Provider Business Mailing Address Fax Number",
    "Provider First Line Business Practice Location Address",
    "Provider Second Line Business Practice Location Address",
    "Provider Business Practice Location Address City Name",
    "Provider Business Practice Location Address State Name",
    "Provider Business Practice Location Address Postal Code",
    "Provider Business Practice Location Address Country Code (If outside U.S.)",
    "Provider Business Practice Location Address Telephone Number",
    "Provider Business Practice Location Address Fax Number",
    "Provider Enumeration Date",
    "Last Update Date",
    "NPI Deactivation Reason Code",
    "NPI Deactivation Date",
    "NPI Reactivation Date",
    "Provider Gender Code",
    "Authorized Official Last Name",
    "Authorized Official First Name",
    "Authorized Official Middle Name",
    "Authorized Official Title or Position",
    "Authorized Official Telephone Number",
)
_TAXONOMIES = tuple(
    name
    for i in range(1, 16)
    for name in (
        f"Healthcare Provider Taxonomy Code_{i}",
        f"Provider License Number_{i}",
        f"Provider License Number State Code_{i}",
        f"Healthcare Provider Primary Taxonomy Switch_{i}",
    )
)
_OTHER_IDENTIFIERS = tuple(
    name
    for i in range(1, 51)
    for name in (
        f"Other Provider Identifier_{i}",
        f"Other Provider Identifier Type Code_{i}",
        f"Other Provider Identifier State_{i}",
        f"Other Provider Identifier Issuer_{i}",
    )
)
_TAIL = (
    "Is Sole Proprietor",
    "Is Organization Subpart",
    "Parent Organization LBN",
    "Parent Organization TIN",
    "Authorized Official Name Prefix Text",
    "Authorized Official Name Suffix Text",
    "Authorized Official Credential Text",
    *(f"Healthcare Provider Taxonomy Group_{i}" for i in range(1, 16)),
    "Certification Date",
)
NPPES_HEADER: tuple[str, ...] = _HEAD + _TAXONOMIES + _OTHER_IDENTIFIERS + _TAIL
assert len(NPPES_HEADER) == 330
