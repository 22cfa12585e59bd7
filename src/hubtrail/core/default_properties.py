"""The properties and groups every portal starts with: HubSpot's defaults for contacts, companies.

Names, types and groups follow a real `GET /crm/v3/properties/contacts` dump (see
`../shared/reference/hubspot-api.md` §4.4–4.5); read-only ones are those HubSpot sets itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubtrail.core.properties import ObjectType, Option, PropertyDefinition, PropertyType

# HubSpot's labels where the internal value runs words together.
_LABELS = {
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
}


def _options(*values: str) -> tuple[Option, ...]:
    return tuple(
        Option(
            label=_LABELS.get(value, value.replace("_", " ").title()),
            value=value,
            display_order=i,
        )
        for i, value in enumerate(values)
    )


LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
ANALYTICS_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
EMPLOYEE_RANGES = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")

S, N, D, DT, E, B = (
    PropertyType.STRING,
    PropertyType.NUMBER,
    PropertyType.DATE,
    PropertyType.DATETIME,
    PropertyType.ENUMERATION,
    PropertyType.BOOL,
)
_FIELD_TYPES = {S: "text", N: "number", D: "date", DT: "date", E: "select", B: "booleancheckbox"}


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str
    label: str
    type: PropertyType = S
    group: str = "contactinformation"
    read_only: bool = False
    field_type: str = ""
    options: tuple[Option, ...] = field(default=())


def _build(specs: list[_Spec]) -> tuple[PropertyDefinition, ...]:
    return tuple(
        PropertyDefinition(
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type or _FIELD_TYPES[spec.type],
            group_name=spec.group,
            options=spec.options,
            read_only_value=spec.read_only,
        )
        for spec in specs
    )


_AI = "analyticsinformation"
DEFAULT_CONTACT_PROPERTIES = _build(
    [
        _Spec("email", "Email"),
        _Spec("firstname", "First Name"),
        _Spec("lastname", "Last Name"),
        _Spec("phone", "Phone Number", field_type="phonenumber"),
        _Spec("mobilephone", "Mobile Phone Number", field_type="phonenumber"),
        _Spec("company", "Company Name"),
        _Spec("website", "Website URL"),
        _Spec("address", "Street Address"),
        _Spec("city", "City"),
        _Spec("state", "State/Region"),
        _Spec("zip", "Postal Code"),
        _Spec("country", "Country/Region"),
        _Spec("jobtitle", "Job Title"),
        _Spec("industry", "Industry"),
        _Spec("annualrevenue", "Annual Revenue"),
        _Spec("message", "Message", field_type="textarea", group="contact_activity"),
        _Spec(
            "lifecyclestage",
            "Lifecycle Stage",
            E,
            field_type="radio",
            options=_options(*LIFECYCLE_STAGES),
        ),
        _Spec(
            "hs_lead_status",
            "Lead Status",
            E,
            group="sales_properties",
            field_type="radio",
            options=_options(*LEAD_STATUSES),
        ),
        _Spec("numemployees", "Number of Employees", E, options=_options(*EMPLOYEE_RANGES)),
        _Spec("hubspot_owner_id", "Contact owner", group="sales_properties"),
        _Spec("associatedcompanyid", "Primary Associated Company ID", N),
        _Spec("hs_language", "Preferred language"),
        _Spec("hs_timezone", "Time Zone"),
        _Spec("hs_persona", "Persona"),
        _Spec("createdate", "Create Date", DT, read_only=True),
        _Spec("lastmodifieddate", "Last Modified Date", DT, read_only=True),
        _Spec("hs_object_id", "Record ID", N, read_only=True),
        _Spec("hs_email_domain", "Email Domain", read_only=True),
        _Spec("hs_additional_emails", "Additional email addresses", read_only=True),
        _Spec("hs_merged_object_ids", "Merged Contact IDs", read_only=True),
        _Spec("ip_city", "IP City", group="conversioninformation", read_only=True),
        _Spec("ip_state", "IP State/Region", group="conversioninformation", read_only=True),
        _Spec("ip_country", "IP Country", group="conversioninformation", read_only=True),
        _Spec("hs_email_optout", "Unsubscribed from all email", B, read_only=True),
        _Spec(
            "hs_analytics_source", "Original Source", E, _AI, options=_options(*ANALYTICS_SOURCES)
        ),
        _Spec(
            "hs_analytics_source_data_1", "Original Source Drill-Down 1", group=_AI, read_only=True
        ),
        _Spec(
            "hs_analytics_source_data_2", "Original Source Drill-Down 2", group=_AI, read_only=True
        ),
        _Spec(
            "hs_latest_source",
            "Latest Traffic Source",
            E,
            _AI,
            True,
            options=_options(*ANALYTICS_SOURCES),
        ),
        _Spec("hs_latest_source_timestamp", "Latest Traffic Source Date", DT, _AI, True),
        _Spec(
            "hs_latest_source_data_1",
            "Latest Traffic Source Drill-Down 1",
            group=_AI,
            read_only=True,
        ),
        _Spec(
            "hs_latest_source_data_2",
            "Latest Traffic Source Drill-Down 2",
            group=_AI,
            read_only=True,
        ),
        _Spec("hs_analytics_first_url", "First Page Seen", group=_AI, read_only=True),
        _Spec("hs_analytics_last_url", "Last Page Seen", group=_AI, read_only=True),
        _Spec("hs_analytics_first_referrer", "First Referring Site", group=_AI, read_only=True),
        _Spec("hs_analytics_last_referrer", "Last Referring Site", group=_AI, read_only=True),
        _Spec("hs_analytics_first_timestamp", "Time First Seen", DT, _AI, True),
        _Spec("hs_analytics_last_timestamp", "Time Last Seen", DT, _AI, True),
        _Spec("hs_analytics_first_visit_timestamp", "Time of First Session", DT, _AI, True),
        _Spec("hs_analytics_last_visit_timestamp", "Time of Last Session", DT, _AI, True),
        _Spec("hs_analytics_num_page_views", "Number of Pageviews", N, _AI, True),
        _Spec("hs_analytics_num_visits", "Number of Sessions", N, _AI, True),
        _Spec("hs_analytics_average_page_views", "Average Pageviews", N, _AI, True),
        _Spec("hs_analytics_num_event_completions", "Number of event completions", N, _AI, True),
        _Spec("hs_analytics_revenue", "Event Revenue", N, _AI, True),
        _Spec("first_conversion_date", "First Conversion Date", DT, _AI, True),
        _Spec("recent_conversion_date", "Recent Conversion Date", DT, _AI, True),
        _Spec("first_conversion_event_name", "First Conversion", group=_AI, read_only=True),
        _Spec("recent_conversion_event_name", "Recent Conversion", group=_AI, read_only=True),
        _Spec("num_conversion_events", "Number of Form Submissions", N, _AI, True),
        _Spec("num_unique_conversion_events", "Number of Unique Forms Submitted", N, _AI, True),
        *(
            _Spec(f"hs_lifecyclestage_{stage}_date", f"Became a {stage} Date", DT, _AI, True)
            for stage in LIFECYCLE_STAGES
        ),
    ]
)

_CI = "companyinformation"
DEFAULT_COMPANY_PROPERTIES = _build(
    [
        _Spec("name", "Company name", group=_CI),
        _Spec("domain", "Company Domain Name", group=_CI),
        _Spec("website", "Website URL", group=_CI),
        _Spec("phone", "Phone Number", group=_CI, field_type="phonenumber"),
        _Spec("address", "Street Address", group=_CI),
        _Spec("address2", "Street Address 2", group=_CI),
        _Spec("city", "City", group=_CI),
        _Spec("state", "State/Region", group=_CI),
        _Spec("zip", "Postal Code", group=_CI),
        _Spec("country", "Country/Region", group=_CI),
        _Spec("description", "Description", group=_CI, field_type="textarea"),
        _Spec("industry", "Industry", group=_CI),
        _Spec("numberofemployees", "Number of Employees", N, _CI),
        _Spec("annualrevenue", "Annual Revenue", N, _CI),
        _Spec("lifecyclestage", "Lifecycle Stage", E, _CI, options=_options(*LIFECYCLE_STAGES)),
        _Spec("type", "Type", group=_CI),
        _Spec("hubspot_owner_id", "Company owner", group=_CI),
        _Spec("timezone", "Time Zone", group=_CI),
        _Spec("founded_year", "Year Founded", group=_CI),
        _Spec("is_public", "Is Public", B, _CI),
        _Spec("linkedin_company_page", "LinkedIn Company Page", group=_CI),
        _Spec("facebook_company_page", "Facebook Company Page", group=_CI),
        _Spec("twitterhandle", "Twitter Handle", group=_CI),
        _Spec("about_us", "About Us", group=_CI),
        _Spec("hs_additional_domains", "Additional Domains", group=_CI),
        _Spec("hs_merged_object_ids", "Merged Company IDs", group=_CI, read_only=True),
        _Spec("createdate", "Create Date", DT, _CI, True),
        _Spec("hs_lastmodifieddate", "Last Modified Date", DT, _CI, True),
        _Spec("hs_object_id", "Record ID", N, _CI, True),
        _Spec("num_associated_contacts", "Number of Associated Contacts", N, _CI, True),
        _Spec(
            "hs_analytics_source",
            "Original Source Type",
            E,
            _AI,
            True,
            options=_options(*ANALYTICS_SOURCES),
        ),
        _Spec("hs_analytics_num_page_views", "Number of Pageviews", N, _AI, True),
    ]
)

DEFAULT_GROUPS: dict[ObjectType, tuple[tuple[str, str], ...]] = {
    ObjectType.CONTACT: (
        ("contactinformation", "Contact information"),
        ("sales_properties", "Sales properties"),
        ("contact_activity", "Contact activity"),
        ("conversioninformation", "Conversion information"),
        (_AI, "Web analytics history"),
    ),
    ObjectType.COMPANY: ((_CI, "Company information"), (_AI, "Web analytics history")),
}

DEFAULT_PROPERTIES: dict[ObjectType, tuple[PropertyDefinition, ...]] = {
    ObjectType.CONTACT: DEFAULT_CONTACT_PROPERTIES,
    ObjectType.COMPANY: DEFAULT_COMPANY_PROPERTIES,
}
