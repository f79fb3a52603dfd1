"""Human names for this app's audit action codes (see gongkai.audit.actions)."""

from django.utils.translation import gettext_lazy as _

from gongkai.audit.actions import register_labels

register_labels(
    {
        "congress.term_created": _("Congress term created"),
        "congress.delegation_created": _("Delegation created"),
        "congress.representative_added": _("Representative seated"),
        "congress.representative_moved": _("Representative moved to another delegation"),
        "congress.representative_left": _("Representative left the roster"),
        "congress.session_created": _("Congress session planned"),
        "congress.session_updated": _("Congress session changed"),
        "congress.session_opened": _("Congress session opened"),
        "congress.session_closed": _("Congress session closed"),
        "congress.checked_in": _("Representative checked in"),
        "congress.attendance_recorded": _("Attendance recorded by the union office"),
        "congress.patrol_recorded": _("Patrol recorded"),
        "congress.patrol_sent": _("Patrol report sent for publication"),
        "congress.director_report_written": _("Director's report written"),
        "congress.director_report_rewritten": _("Director's report rewritten"),
        "congress.director_report_sent": _("Director's report sent for publication"),
        "congress.meeting_recorded": _("Meeting recorded"),
        "congress.meeting_sent": _("Meeting minutes sent for publication"),
        "motion.drafted": _("Motion drafted"),
        "motion.updated": _("Motion draft changed"),
        "motion.seeking_seconds": _("Motion opened for seconds"),
        "motion.seconded": _("Motion seconded"),
        "motion.submitted": _("Motion submitted to the committee"),
        "motion.registered": _("Motion registered"),
        "motion.merged": _("Motion merged"),
        "motion.declined": _("Motion declined and turned into a suggestion"),
        "motion.assigned": _("Motion assigned"),
        "motion.chased": _("Motion chased"),
        "motion.assisted": _("Motion answered by an assisting unit"),
        "motion.answered": _("Motion answered"),
        "motion.rated": _("Motion answer rated"),
        "motion.sent_back": _("Motion sent back for a new answer"),
    },
    fields={
        "at": _("time"),
        "by": _("recorded by"),
        "representative": _("representative"),
        "disclosures": _("disclosures"),
    },
)
