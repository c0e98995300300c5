"""Data-sovereignty and compliance policy: what a deployment must satisfy.

A :class:`SovereigntyPolicy` is built from a :class:`DataClass` plus any fields the
user sets explicitly. Fields the user leaves out take defaults from the data class
(:func:`data_class_defaults`). They are inferplan's modest, conservative starting
points, not legal advice:

- public: no air gap, training allowed, no API retention limit, no foreign-law ban,
  any country, no certification.
- internal: as public, but ``forbid_training_on_data``.
- confidential: as internal, plus ``api_max_retention_days = 0`` (zero data retention).
- regulated_personal and health: as confidential; if ``home_country`` is in the EEA,
  also ``allowed_countries = ('EEA',)``.
- secret: ``air_gapped``, training forbidden, zero retention, forbids every foreign
  access law not of the home country and, when home is set, allows only home.

What the law asks of a host is not a default here but a rule of its own
(:mod:`inferplan.sovereignty`): the GDPR Art. 28 processor contract is a *condition*
("sign the provider's DPA") wherever personal data reaches a processor, and the
country rules for health and public-sector data (German Section 393 SGB V, French HDS
and SecNumCloud, US HIPAA BAA, ...) are applied per home country. Keeping regulated
data in the EEA avoids GDPR Chapter V transfer tools; it is a default, not a legal
duty. ``home_country`` is the organisation's (data controller's) country;
``public_sector`` says the organisation is a public body (public-sector cloud rules).

Conflicting settings raise :class:`~inferplan.errors.SpecError` naming the field.

Example:
    >>> p = SovereigntyPolicy(data_class="secret", home_country="DE")
    >>> p.air_gapped, p.allowed_countries
    (True, ('DE',))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator

from inferplan.errors import SpecError
from inferplan.specs.base import FrozenSpec


class DataClass(StrEnum):
    """Sensitivity of the data the model will see, lowest to highest."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    REGULATED_PERSONAL = "regulated_personal"
    HEALTH = "health"
    SECRET = "secret"


#: Classes for which unknown or unclear facts fail closed instead of warning.
SENSITIVE_CLASSES: frozenset[DataClass] = frozenset(
    {DataClass.REGULATED_PERSONAL, DataClass.HEALTH, DataClass.SECRET}
)


class Certification(StrEnum):
    """Certifications, attestations and contract terms a provider can offer.

    ``bsi_c5`` is a BSI C5 attestation of unstated or Type 1 scope; ``bsi_c5_type2``
    one that also tested operating effectiveness over a period (C5:2020, section 3.4).
    ``gdpr_dpa`` is accepted in a policy's ``required_certifications`` for backward
    compatibility; it is evaluated as the GDPR processor-contract condition, not as a
    certificate (providers record it under ``gdpr_dpa``).
    """

    ISO27001 = "iso27001"
    ISO27017 = "iso27017"
    ISO27018 = "iso27018"
    ISO27701 = "iso27701"
    SOC2 = "soc2"
    SOC3 = "soc3"
    HIPAA_BAA = "hipaa_baa"
    BSI_C5 = "bsi_c5"
    SECNUMCLOUD = "secnumcloud"
    FEDRAMP = "fedramp"
    HDS = "hds"
    PCI_DSS = "pci_dss"
    GDPR_DPA = "gdpr_dpa"
    ENS = "ens"
    BSI_C5_TYPE2 = "bsi_c5_type2"
    NEN7510 = "nen7510"
    NHS_DSPT = "nhs_dspt"


#: Classes whose data is personal data (GDPR Art. 4(1)); health data is a special
#: category (Art. 9).
PERSONAL_CLASSES: frozenset[DataClass] = frozenset(
    {DataClass.REGULATED_PERSONAL, DataClass.HEALTH}
)

#: Entries that are contracts a host signs, not certificates an organisation holds.
CONTRACT_TERMS: frozenset[Certification] = frozenset(
    {Certification.HIPAA_BAA, Certification.GDPR_DPA}
)


class ForeignAccessLaw(StrEnum):
    """Laws that let a government compel a provider to hand over data held abroad."""

    US_CLOUD_ACT = "us_cloud_act"
    US_FISA_702 = "us_fisa_702"
    CN_NATIONAL_INTELLIGENCE_LAW = "cn_national_intelligence_law"


#: Country whose authorities use each law (it is not foreign to that country's users).
LAW_COUNTRY: dict[ForeignAccessLaw, str] = {
    ForeignAccessLaw.US_CLOUD_ACT: "US",
    ForeignAccessLaw.US_FISA_702: "US",
    ForeignAccessLaw.CN_NATIONAL_INTELLIGENCE_LAW: "CN",
}

#: Reference text of each law. CLOUD Act: data in a provider's "possession, custody,
#: or control ... regardless of whether ... located within or outside of the United
#: States"; FISA 702: targeting of non-US persons abroad with the compelled assistance
#: of electronic communication service providers; PRC National Intelligence Law
#: (2017) Art. 7: organisations and citizens shall support, assist and cooperate with
#: national intelligence work.
LAW_SOURCE: dict[ForeignAccessLaw, str] = {
    ForeignAccessLaw.US_CLOUD_ACT: "https://www.law.cornell.edu/uscode/text/18/2713",
    ForeignAccessLaw.US_FISA_702: "https://www.law.cornell.edu/uscode/text/50/1881a",
    ForeignAccessLaw.CN_NATIONAL_INTELLIGENCE_LAW: (
        "https://www.chinalawtranslate.com/en/national-intelligence-law-of-the-p-r-c-2017/"
    ),
}


class DeploymentKind(StrEnum):
    """Where inference runs: own data centre, own hardware in a rented facility,
    rented cloud capacity, or a hosted model API."""

    ON_PREM = "on_prem"
    COLOCATION = "colocation"
    CLOUD = "cloud"
    API = "api"


# ISO 3166-1 alpha-2 officially assigned codes (ISO 3166 Maintenance Agency,
# https://www.iso.org/iso-3166-country-codes.html).
_ISO_ALPHA2_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL
    GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM
    JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP
    NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD
    SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
_ISO_ALPHA2 = frozenset(_ISO_ALPHA2_TEXT.split())

# The 27 EU member states (https://european-union.europa.eu/principles-countries-history/eu-countries_en).
_EU_TEXT = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EU_COUNTRIES: frozenset[str] = frozenset(_EU_TEXT.split())
# EEA = EU + Iceland, Liechtenstein, Norway (EEA Agreement, https://www.efta.int/eea).
EEA_COUNTRIES: frozenset[str] = EU_COUNTRIES | {"IS", "LI", "NO"}

COUNTRY_GROUPS: dict[str, frozenset[str]] = {"EU": EU_COUNTRIES, "EEA": EEA_COUNTRIES}
#: Countries where the GDPR's Art. 28 processor contract applies to a controller
#: established there: the EEA, plus the UK (UK GDPR keeps Art. 28,
#: https://www.legislation.gov.uk/eur/2016/679/article/28).
GDPR_COUNTRIES: frozenset[str] = EEA_COUNTRIES | {"GB"}


def normalize_country(code: str, field: str = "country", groups: bool = True) -> str:
    """Upper-case an ISO 3166-1 alpha-2 code (or group 'EU'/'EEA'); reject unknown codes."""
    c = code.strip().upper()
    if groups and c in COUNTRY_GROUPS:
        return c
    if c == "UK":
        raise SpecError(field, "'UK' is not an ISO 3166-1 code; use 'GB'")
    if c not in _ISO_ALPHA2:
        allowed = "an ISO 3166-1 alpha-2 code" + (" or 'EU'/'EEA'" if groups else "")
        raise SpecError(field, f"unknown country '{code}'; expected {allowed}")
    return c


def expand_countries(codes: Iterable[str]) -> frozenset[str]:
    """Expand codes and group shorthands ('EU', 'EEA') into a set of alpha-2 codes.

    >>> sorted(expand_countries(["EEA"]) - expand_countries(["EU"]))
    ['IS', 'LI', 'NO']
    """
    out: set[str] = set()
    for code in codes:
        c = normalize_country(code, "allowed_countries")
        out |= COUNTRY_GROUPS.get(c, frozenset({c}))
    return frozenset(out)


def data_class_defaults(data_class: DataClass, home_country: str | None = None) -> dict[str, Any]:
    """Policy fields implied by ``data_class`` (see the module table)."""
    home = normalize_country(home_country, "home_country", groups=False) if home_country else None
    in_eea = home is not None and home in EEA_COUNTRIES
    d: dict[str, Any] = {
        "air_gapped": False,
        "forbid_training_on_data": data_class != DataClass.PUBLIC,
        "api_max_retention_days": None,
        "forbid_foreign_access_laws": (),
        "allowed_countries": None,
        "required_certifications": (),
    }
    if data_class in (DataClass.PUBLIC, DataClass.INTERNAL):
        return d
    d["api_max_retention_days"] = 0
    if data_class in PERSONAL_CLASSES and in_eea:
        d["allowed_countries"] = ("EEA",)
    if data_class == DataClass.SECRET:
        d["air_gapped"] = True
        d["forbid_foreign_access_laws"] = tuple(
            law for law in ForeignAccessLaw if LAW_COUNTRY[law] != home
        )
        d["allowed_countries"] = (home,) if home else None
    return d


def spec_error_from(exc: ValidationError) -> SpecError:
    """The SpecError raised inside a validator, or a SpecError built from the first error."""
    err = exc.errors()[0]
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, SpecError):
        return inner
    field = ".".join(str(x) for x in err["loc"]) or "policy"
    return SpecError(field, str(err["msg"]))


class SovereigntyPolicy(FrozenSpec):
    """The sovereignty and compliance rules every deployment option is checked against.

    allowed_countries: ISO 3166-1 alpha-2 codes or 'EU'/'EEA'; ``None`` allows any.
    allowed_deployment_kinds: ``None`` allows every :class:`DeploymentKind`.
    public_sector: the organisation is a public body (public-sector cloud rules apply).
    high_risk_ai: the use is a high-risk AI system (EU AI Act Annex III), which adds
        deployer duties.
    personal_data: the data is personal data; ``None`` infers it from ``data_class``.
    api_max_retention_days: longest an API may keep prompts/outputs; 0 demands zero
        data retention; ``None`` sets no limit.
    Invalid or conflicting input raises :class:`SpecError` naming the field.
    """

    data_class: DataClass
    home_country: str | None = None
    allowed_countries: tuple[str, ...] | None = None
    allowed_deployment_kinds: tuple[DeploymentKind, ...] | None = None
    forbid_foreign_access_laws: tuple[ForeignAccessLaw, ...] = ()
    air_gapped: bool = False
    required_certifications: tuple[Certification, ...] = ()
    api_max_retention_days: int | None = Field(default=None, ge=0)
    forbid_training_on_data: bool = False
    public_sector: bool = False
    high_risk_ai: bool = False
    personal_data: bool | None = None

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise spec_error_from(exc) from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SovereigntyPolicy:
        """Build from parsed YAML/JSON; errors are :class:`SpecError`."""
        return cls(**{str(k): v for k, v in data.items()})

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "data_class" not in data:
            return data
        try:
            dc = DataClass(data["data_class"])
        except ValueError:
            allowed = ", ".join(c.value for c in DataClass)
            raise SpecError(
                "data_class", f"unknown '{data['data_class']}'; allowed: {allowed}"
            ) from None
        home = data.get("home_country")
        defaults = data_class_defaults(dc, home if isinstance(home, str) else None)
        return {**defaults, **data}

    @field_validator("home_country")
    @classmethod
    def _home(cls, v: str | None) -> str | None:
        return None if v is None else normalize_country(v, "home_country", groups=False)

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return None
        if not v:
            raise SpecError(
                "allowed_countries", "empty list allows no country; omit it to allow any"
            )
        return tuple(dict.fromkeys(normalize_country(c, "allowed_countries") for c in v))

    @model_validator(mode="after")
    def _no_conflicts(self) -> SovereigntyPolicy:
        kinds = self.allowed_deployment_kinds
        if kinds is not None and not kinds:
            raise SpecError(
                "allowed_deployment_kinds", "empty list allows nothing; omit it to allow all"
            )
        offline = {DeploymentKind.ON_PREM, DeploymentKind.COLOCATION}
        if self.air_gapped and kinds is not None and not offline & set(kinds):
            listed = ", ".join(k.value for k in kinds)
            raise SpecError(
                "allowed_deployment_kinds",
                f"air_gapped needs on_prem or colocation, but only {listed} is allowed",
            )
        return self

    def allowed_country_set(self) -> frozenset[str] | None:
        """Allowed countries as alpha-2 codes with groups expanded; ``None`` = any."""
        if self.allowed_countries is None:
            return None
        return expand_countries(self.allowed_countries)

    @property
    def processes_personal_data(self) -> bool:
        """True when the data is personal: ``personal_data`` if set, else implied by
        the class (regulated_personal, health)."""
        if self.personal_data is not None:
            return self.personal_data
        return self.data_class in PERSONAL_CLASSES

    @property
    def sensitive(self) -> bool:
        """True when unclear facts must fail closed (regulated, health, secret data)."""
        return self.data_class in SENSITIVE_CLASSES


__all__ = [
    "CONTRACT_TERMS",
    "COUNTRY_GROUPS",
    "EEA_COUNTRIES",
    "EU_COUNTRIES",
    "GDPR_COUNTRIES",
    "LAW_COUNTRY",
    "LAW_SOURCE",
    "PERSONAL_CLASSES",
    "SENSITIVE_CLASSES",
    "Certification",
    "DataClass",
    "DeploymentKind",
    "ForeignAccessLaw",
    "SovereigntyPolicy",
    "data_class_defaults",
    "expand_countries",
    "normalize_country",
    "spec_error_from",
]
