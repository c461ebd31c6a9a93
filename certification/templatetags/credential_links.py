"""Links that take a certificate elsewhere: LinkedIn's "add a certification" form."""

from urllib.parse import urlencode

from django import template
from django.utils import timezone

from certification.models import Certificate
from certification.openbadges import credential_id

register = template.Library()

LINKEDIN_ADD_URL = "https://www.linkedin.com/profile/add"


@register.simple_tag
def linkedin_add_url(certificate: Certificate) -> str:
    """LinkedIn's "Add license or certification" form, filled in; the credential URL is the public
    check page. Uses only the certificate's own fields: no query per certificate."""
    issued = timezone.localtime(certificate.issued_at)
    params = {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.programme_title,
        "organizationName": certificate.issuer_name,
        "issueYear": issued.year,
        "issueMonth": issued.month,
        "certId": certificate.code,
        "certUrl": credential_id(certificate),
    }
    if certificate.expires_on:
        params["expirationYear"] = certificate.expires_on.year
        params["expirationMonth"] = certificate.expires_on.month
    return f"{LINKEDIN_ADD_URL}?{urlencode(params)}"
