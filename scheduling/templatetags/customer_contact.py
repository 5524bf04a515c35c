"""How customers reach their jobcenter, on the pages they open without a login (the rebooking
link): `{% jobcenter_contact %}` shows the jobcenter of the page's appointment, or, where the page
has none (a link that is not ours), the installation's. Only what the jobcenter has filled in
(organisation.Jobcenter in /admin/) appears; the labels are "customer"-context messages."""

from django import template

from organisation.selectors import jobcenter_get_for_customers

register = template.Library()


@register.inclusion_tag("scheduling/partials/jobcenter_contact.html", takes_context=True)
def jobcenter_contact(context, *, heading: bool = True, element_id: str = "jobcenter-contact"):
    from scheduling.services_invitations import jobcenter_of

    appointment = context.get("appointment")
    jobcenter = jobcenter_of(appointment) if appointment is not None else None
    if jobcenter is None:
        jobcenter = jobcenter_get_for_customers()
    return {"jobcenter": jobcenter, "heading": heading, "element_id": element_id}
