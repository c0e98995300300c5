"""Country rules for health and public-sector data, per the organisation's home country.

Each :class:`CountryRule` says which host evidence (an attestation, certificate or
signed contract in the provider's record) a home country's law or binding practice
asks for when data of a class leaves the organisation's own data centre. A *mandatory*
rule fails the option when the evidence is not on record: an unknown status fails
closed, with the reason. A non-mandatory rule adds a condition to check. These are
inferplan's reading of the cited texts, not legal advice; the scope notes say whom each
law binds.

Rules (sources on each row):

- DE, health: Section 393 SGB V (Digital-Gesetz, in force 1 July 2024): care providers,
  health insurers and their processors may process health and social data in a cloud
  only with a current BSI C5 attestation of the processing entity; Type 1 sufficed
  until 30 June 2025, Type 2 since 1 July 2025.
- DE, public sector: German federal bodies use C5-attested cloud providers.
- FR, health: Public Health Code Art. L.1111-8: hosts of personal health data hold HDS
  certification (activity 1 covers physical hosting, so colocation too).
- FR, public sector, confidential and above: "cloud au centre" doctrine (2021, updated
  2023) and the SREN law (2024) ask for SecNumCloud-qualified offers.
- US, health: HIPAA; HHS OCR's cloud guidance (Oct 2016): a cloud provider that stores
  ePHI is a business associate even without the key, so a BAA must be signed first.
- US, public sector: FedRAMP authorization for federal agencies (checked, not forced:
  state and local rules differ).
- GB, health: NHS Data Security and Protection Toolkit for every organisation, supplier
  and processor with access to NHS patient data (contractual, checked).
- NL, health: NEN 7510 is the legally referenced standard for care providers; their
  suppliers are asked for NEN 7510 or ISO 27001 certification (checked).
- EU, health or public sector: NIS2 (Directive 2022/2555) Art. 21(2)(d): health and
  public administration entities manage supply-chain security of their providers.
- EU, high-risk AI use: AI Act (Regulation 2024/1689) Art. 26(6): deployers keep the
  system's logs for at least six months, to the extent the logs are under their control.
"""

from __future__ import annotations

from pydantic import Field

from inferplan.specs.base import FrozenSpec
from inferplan.specs.policy import (
    EU_COUNTRIES,
    Certification,
    DataClass,
    DeploymentKind,
    SovereigntyPolicy,
)

_HOSTED = frozenset({DeploymentKind.CLOUD, DeploymentKind.API})
_HOSTED_AND_COLO = _HOSTED | {DeploymentKind.COLOCATION}
_ALL_KINDS = frozenset(DeploymentKind)
_ABOVE_PUBLIC = frozenset(DataClass) - {DataClass.PUBLIC}
_CONFIDENTIAL_UP = frozenset(
    {DataClass.CONFIDENTIAL, DataClass.REGULATED_PERSONAL, DataClass.HEALTH, DataClass.SECRET}
)


class CountryRule(FrozenSpec):
    """One country's requirement on hosts of one kind of data.

    countries: home countries it applies to. data_classes: classes it applies to.
    public_sector_only / high_risk_ai_only: further scope on the policy. kinds:
    deployment kinds it bears on (a third party hosts or processes the data).
    evidence: what the provider's record must list (``None``: a check with no record
    field). mandatory: missing or unknown evidence fails the option.
    """

    id: str
    countries: frozenset[str]
    data_classes: frozenset[DataClass]
    kinds: frozenset[DeploymentKind]
    public_sector_only: bool = False
    high_risk_ai_only: bool = False
    evidence: Certification | None = None
    mandatory: bool = False
    check: str = Field(min_length=3, description="one line: what to sign or verify")
    basis: str = Field(min_length=3, description="the law or rule, short")
    source: str = Field(min_length=3)

    def applies(self, policy: SovereigntyPolicy, kind: DeploymentKind) -> bool:
        """True when this rule binds the policy's organisation for an option of ``kind``."""
        home = policy.home_country
        return (
            home is not None
            and home in self.countries
            and policy.data_class in self.data_classes
            and kind in self.kinds
            and (policy.public_sector or not self.public_sector_only)
            and (policy.high_risk_ai or not self.high_risk_ai_only)
        )


COUNTRY_RULES: tuple[CountryRule, ...] = (
    CountryRule(
        id="de-health-c5-type2",
        countries=frozenset({"DE"}),
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED,
        evidence=Certification.BSI_C5_TYPE2,
        mandatory=True,
        check="obtain the current BSI C5 Type 2 report and check it covers this service "
        "and its sub-processors",
        basis="Section 393 SGB V (care providers, health insurers and their processors)",
        source="https://www.datenschutz-notizen.de/c5-typ2-testat-das-sollten-sie-beachten-0155093/",
    ),
    CountryRule(
        id="de-public-c5",
        countries=frozenset({"DE"}),
        data_classes=_ABOVE_PUBLIC,
        kinds=_HOSTED,
        public_sector_only=True,
        evidence=Certification.BSI_C5,
        mandatory=True,
        check="obtain the provider's BSI C5 attestation report for this service",
        basis="German public-sector bodies use C5-attested cloud providers",
        source="https://www.ibm.com/new/announcements/ibm-cloud-expands-c5-compliance",
    ),
    CountryRule(
        id="fr-health-hds",
        countries=frozenset({"FR"}),
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED_AND_COLO,
        evidence=Certification.HDS,
        mandatory=True,
        check="check the HDS certificate covers the activities used (1: physical hosting; "
        "2-5: infrastructure and platform)",
        basis="French Public Health Code Art. L.1111-8 (HDS certification)",
        source="https://www.qovery.com/docs/getting-started/security-and-compliance/hds",
    ),
    CountryRule(
        id="fr-public-secnumcloud",
        countries=frozenset({"FR"}),
        data_classes=_CONFIDENTIAL_UP,
        kinds=_HOSTED,
        public_sector_only=True,
        evidence=Certification.SECNUMCLOUD,
        mandatory=True,
        check="check the SecNumCloud qualification covers the offer used",
        basis="'cloud au centre' doctrine and SREN law: SecNumCloud for sensitive state data",
        source="https://www.marekhronec.com/knowledge-base/compliance/france-anssi-secnumcloud-qualification",
    ),
    CountryRule(
        id="us-health-baa",
        countries=frozenset({"US"}),
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED,
        evidence=Certification.HIPAA_BAA,
        mandatory=True,
        check="sign the provider's HIPAA business associate agreement and use only its "
        "HIPAA-eligible services",
        basis="HIPAA; HHS OCR guidance on cloud computing (2016): a CSP is a business associate",
        source="https://www.cleardata.com/blog/hhs-guidance-hipaa-cloud-computing/",
    ),
    CountryRule(
        id="us-public-fedramp",
        countries=frozenset({"US"}),
        data_classes=_ABOVE_PUBLIC,
        kinds=_HOSTED,
        public_sector_only=True,
        evidence=Certification.FEDRAMP,
        check="federal agencies: check the service's FedRAMP authorization (state and local "
        "rules differ)",
        basis="FedRAMP for federal agency cloud use",
        source="https://www.fedramp.gov/",
    ),
    CountryRule(
        id="gb-health-dspt",
        countries=frozenset({"GB"}),
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED_AND_COLO,
        evidence=Certification.NHS_DSPT,
        check="check the supplier's NHS Data Security and Protection Toolkit status "
        "('Standards Met')",
        basis="NHS DSPT: required of every organisation with access to NHS patient data",
        source="https://www.dsptoolkit.nhs.uk/Help/3",
    ),
    CountryRule(
        id="nl-health-nen7510",
        countries=frozenset({"NL"}),
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED_AND_COLO,
        evidence=Certification.NEN7510,
        check="ask for the supplier's NEN 7510 (or ISO 27001) certificate and its scope",
        basis="NEN 7510, the information-security standard Dutch law requires of care providers",
        source="https://certificeringsadvies.nl/informatiebeveiliging/nen-7510/",
    ),
    CountryRule(
        id="eu-nis2-supply-chain",
        countries=EU_COUNTRIES,
        data_classes=frozenset({DataClass.HEALTH}),
        kinds=_HOSTED_AND_COLO,
        check="assess the provider's security as a supplier (NIS2 Art. 21(2)(d)); health is "
        "a NIS2 sector",
        basis="NIS2 Directive (EU) 2022/2555 Art. 21",
        source="https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
    ),
    CountryRule(
        id="eu-nis2-public-supply-chain",
        countries=EU_COUNTRIES,
        data_classes=_ABOVE_PUBLIC,
        kinds=_HOSTED_AND_COLO,
        public_sector_only=True,
        check="assess the provider's security as a supplier (NIS2 Art. 21(2)(d)); public "
        "administration is a NIS2 sector",
        basis="NIS2 Directive (EU) 2022/2555 Art. 21",
        source="https://eur-lex.europa.eu/eli/dir/2022/2555/oj",
    ),
    CountryRule(
        id="eu-ai-act-deployer-logs",
        countries=EU_COUNTRIES,
        data_classes=frozenset(DataClass),
        kinds=_ALL_KINDS,
        high_risk_ai_only=True,
        check="keep the system's logs for at least six months (AI Act Art. 26(6)); for an "
        "API, confirm you can obtain them",
        basis="AI Act (EU) 2024/1689 Art. 26 deployer duties for high-risk systems",
        source="https://eur-lex.europa.eu/eli/reg/2024/1689/oj",
    ),
)


def applicable_rules(
    policy: SovereigntyPolicy,
    kind: DeploymentKind,
    rules: tuple[CountryRule, ...] = COUNTRY_RULES,
) -> tuple[CountryRule, ...]:
    """The country rules binding this policy for an option of ``kind``.

    >>> p = SovereigntyPolicy(data_class="health", home_country="DE")
    >>> [r.id for r in applicable_rules(p, DeploymentKind.CLOUD)]
    ['de-health-c5-type2', 'eu-nis2-supply-chain']
    """
    return tuple(r for r in rules if r.applies(policy, kind))


__all__ = ["COUNTRY_RULES", "CountryRule", "applicable_rules"]
