"""Directory sign-in from the server's shell: the way back when the directory fails."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from gongkai.accounts import directory_config
from gongkai.accounts.models import DirectoryPolicy, User
from gongkai.accounts.services import directory_require_set, directory_unlink
from gongkai.core.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Directory sign-in: 'status' (configuration, whether the directory answers), "
        "'require on|off' (local passwords refused for everyone, or not), 'find NAME' (the "
        "entry and account a login name leads to), 'unlink EMPLOYEE_NO' (the account signs "
        "in locally again, with a temporary password printed once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="what", required=True)
        commands.add_parser("status")
        require = commands.add_parser("require")
        require.add_argument("switch", choices=["on", "off"])
        find = commands.add_parser("find")
        find.add_argument("name")
        unlink = commands.add_parser("unlink")
        unlink.add_argument("employee_no")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("en")
        try:
            getattr(self, "_" + options["what"])(options)
        except ServiceError as error:
            raise CommandError(error.message) from error

    def _status(self, options: dict[str, Any]) -> None:
        required = DirectoryPolicy.is_required()
        linked = User.objects.exclude(directory_dn="").count()
        if not directory_config.configured():
            self.stdout.write("No directory is configured (AUTH_LDAP_SERVER_URI is not set).")
            if required:
                self.stdout.write("'required' is on but has no effect without a directory.")
            return
        config = directory_config.describe()
        for label, value in (
            ("server", config.server + (" (StartTLS)" if config.start_tls else "")),
            ("CA file", config.ca_file or "-"),
            ("service account", config.bind_dn or "(anonymous)"),
            ("its password", "set" if config.bind_password_set else "not set"),
            ("people under", config.user_search_base),
            ("login name filter", config.user_filter),
            ("employee number attribute", config.employee_no_attr),
            ("disabled filter", config.disabled_filter or "-"),
            ("name / e-mail attributes", f"{config.name_attr or '-'} / {config.email_attr or '-'}"),
            ("groups under", f"{config.group_search_base or '-'} ({config.group_type})"),
            ("timeout", f"{config.timeout:g} s"),
        ):
            self.stdout.write(f"{label:>28}: {value}")
        roles = directory_config.roles()
        try:
            lines = directory_config.group_roles()
        except directory_config.GroupRolesError:
            lines = []
        for line in roles.describe(lines) if roles is not None else []:
            problem = f"  ({line.problem})" if line.problem else ""
            self.stdout.write(f"{'group':>28}: {line.group} -> {line.role} @ {line.unit}{problem}")
        for problem in directory_config.problems():
            self.stdout.write(self.style.ERROR(f"problem: {problem}"))
        answer = _status()
        if answer.answers:
            self.stdout.write(self.style.SUCCESS("The directory answers."))
        else:
            self.stdout.write(self.style.ERROR(f"The directory does not answer: {answer.detail}"))
        self.stdout.write(f"Accounts linked to a directory entry: {linked}")
        self.stdout.write(
            "Required for everyone: " + ("yes (local passwords refused)" if required else "no")
        )

    def _require(self, options: dict[str, Any]) -> None:
        on = options["switch"] == "on"
        directory_require_set(actor=None, required=on)
        self.stdout.write(
            "The directory is now required for everyone."
            if on
            else "The directory is no longer required: local passwords work again for "
            "accounts not linked to a directory entry."
        )

    def _find(self, options: dict[str, Any]) -> None:
        if not directory_config.configured():
            raise CommandError("No directory is configured (AUTH_LDAP_SERVER_URI is not set).")
        # The optional `directory` extra: imported only once a directory is configured.
        from gongkai.accounts.directory import account_for_login

        try:
            account = account_for_login(options["name"])
        except directory_config.DirectoryUnreachable as error:
            raise CommandError(f"The directory does not answer: {error}") from error
        if account is None:
            self.stdout.write(
                "No single entry with an employee number of an account matches that name."
            )
        else:
            linked = f" (linked to {account.directory_dn})" if account.directory_dn else ""
            self.stdout.write(f"{options['name']} signs in as {account}{linked}.")

    def _unlink(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(employee_no=options["employee_no"]).first()
        if user is None:
            raise CommandError(f"No account has employee number {options['employee_no']!r}.")
        password = directory_unlink(actor=None, user=user)
        self.stdout.write(
            f"{user} is no longer linked to the directory. Temporary password (shown once, "
            f"to be changed at the next login): {password}"
        )


def _status() -> Any:
    try:
        # The optional `directory` extra: imported only once a directory is configured.
        from gongkai.accounts.directory import status
    except ImportError:
        return _NotInstalled()
    return status()


class _NotInstalled:
    answers = False
    detail = "django-auth-ldap is not installed (the 'directory' extra)"
