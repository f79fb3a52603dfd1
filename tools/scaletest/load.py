"""Simulated users: keep-alive sessions that sign in, browse boards, search, file
suggestions, vote and answer the survey, recording every request.

A write is *acknowledged* only when the client saw it succeed (the redirect the page
answers with after saving); a POST is never retried by the client after an error, so an
acknowledged write must be in the database exactly once and an unacknowledged one may or
may not be (the client could not know).
"""

from __future__ import annotations

import http.cookiejar
import random
import re
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import requests

PASSWORD = "gongkai-demo"  # noqa: S105 - the documented demo password
SEARCH_TERMS = ["安全", "工资", "食堂", "培训", "加班", "奖金", "招聘", "设备", "年度", "检修"]


class AnyCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Send the Secure cookies back over plain HTTP: nginx speaks HTTP on loopback and tells
    the app the request was HTTPS (X-Forwarded-Proto), as a TLS proxy would."""

    def return_ok_secure(self, cookie: Any, request: Any) -> bool:
        return True

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return True


class PlainSession(requests.Session):
    """A session that sends back every cookie it holds, Secure ones included (the policy
    alone is not enough: requests merges the jar into a fresh one for each request)."""

    def __init__(self) -> None:
        super().__init__()
        self.cookies.set_policy(AnyCookiePolicy())

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        if len(self.cookies):
            prepared.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in self.cookies)
        return prepared


@dataclass
class Record:
    t: float  # seconds since the load started, at the request's start
    end: float
    user: str
    kind: str
    status: int  # 0: no answer (connection error, timeout)
    error: str = ""


@dataclass
class Acks:
    prefix: str
    poll: int | None
    survey: int | None
    suggestions: list[str] = field(default_factory=list)
    votes: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    suggestion_times: dict[str, float] = field(default_factory=dict)


class FormParser(HTMLParser):
    """The POST forms of a page: their action and fields, with a value for each field a
    person would fill (the first radio of each group, the preselected or first option)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "fields": {}, "radios": set(), "selects": set()}  # fmt: skip
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form["fields"]
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("radio",):
                if name not in fields or "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind == "checkbox":
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind in ("submit", "button", "file", "image", "reset"):
                return
            else:
                fields[name] = a.get("value", "") or ("1" if kind == "number" else "")
        elif tag == "select" and name:
            self._select = name
            self._form["selects"].add(name)
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if value and (self._select not in fields or "selected" in a):
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return [f for f in parser.forms if f["method"] == "post"]


class Pool:
    """Identities handed out to the simulated users: voters first, then survey answerers,
    then every other employee; each identity votes and answers at most once."""

    def __init__(self, voters: list[str], answerers: list[str], others: list[str]) -> None:
        seen: set[str] = set()
        self.order: list[str] = []
        for login in [*voters, *answerers, *others]:
            if login not in seen:
                seen.add(login)
                self.order.append(login)
        self.voters, self.answerers = set(voters), set(answerers)
        self.lock = threading.Lock()
        self.next = 0

    def take(self) -> str:
        with self.lock:
            login = self.order[self.next % len(self.order)]
            self.next += 1
            return login


class Load:
    def __init__(self, base: str, origin: str, info: dict[str, Any], users: int, prefix: str,
                 seed: int = 17) -> None:  # fmt: skip
        self.base, self.origin, self.info, self.users = base, origin, info, users
        self.records: list[Record] = []
        self.acks = Acks(prefix=prefix, poll=info.get("poll"), survey=info.get("survey"))
        self.stop = threading.Event()
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.pool = Pool(info["voters"], info["answerers"], info["employees"])
        self.seq = 0
        self.threads: list[threading.Thread] = []
        self.rng = random.Random(seed)

    def now(self) -> float:
        return time.monotonic() - self.t0

    # --- Requests -------------------------------------------------------------------------

    def session(self) -> requests.Session:
        s = PlainSession()
        s.headers["Origin"] = self.origin
        s.headers["Referer"] = self.origin + "/"
        return s

    def call(self, s: requests.Session, user: str, kind: str, method: str, path: str,
             data: dict[str, Any] | None = None) -> requests.Response | None:  # fmt: skip
        start = self.now()
        try:
            r = s.request(method, self.base + path, data=data, allow_redirects=False, timeout=30)
        except requests.RequestException as exc:
            self.records.append(Record(start, self.now(), user, kind, 0, type(exc).__name__))
            return None
        note = ""
        if r.status_code == 503 and r.headers.get("Retry-After"):
            note = "refused"  # a limit that could not be checked: fail closed
        self.records.append(Record(start, self.now(), user, kind, r.status_code, note))
        return r

    def login(self, s: requests.Session, login: str) -> bool:
        r = self.call(s, login, "login_form", "GET", "/accounts/login/")
        if r is None or r.status_code != 200:
            return False
        forms = [f for f in post_forms(r.text) if "password" in f["fields"]]
        if not forms:
            return False
        fields = dict(forms[0]["fields"])
        fields.update(username=login, password=PASSWORD)
        r = self.call(s, login, "login", "POST", "/accounts/login/", fields)
        return r is not None and r.status_code == 302

    # --- What a user does -----------------------------------------------------------------

    def browse(self, s: requests.Session, login: str, rng: random.Random) -> None:
        pick = rng.random()
        if pick < 0.3:
            self.call(s, login, "board", "GET", f"/boards/{rng.choice(self.info['boards'])}/")
        elif pick < 0.45:
            self.call(s, login, "boards", "GET", "/boards/")
        elif pick < 0.7:
            q = rng.choice(SEARCH_TERMS)
            self.call(s, login, "search", "GET", f"/search/?q={q}")
        elif pick < 0.85:
            self.call(s, login, "suggestions", "GET", "/suggestions/")
        else:
            self.call(s, login, "home", "GET", "/")

    def suggest(self, s: requests.Session, login: str) -> None:
        r = self.call(s, login, "suggest_form", "GET", "/suggestions/new/")
        if r is None or r.status_code != 200:
            return
        forms = [f for f in post_forms(r.text) if "title" in f["fields"]]
        if not forms:
            return
        with self.lock:
            self.seq += 1
            token = f"{self.acks.prefix}-{self.seq:05d}"
        fields = dict(forms[0]["fields"])
        fields.update(title=token, body=f"扩容测试建议 {token}: 请改进食堂和班车。")
        fields.pop("name_hidden", None)
        r = self.call(s, login, "suggest", "POST", "/suggestions/new/", fields)
        if (
            r is not None
            and r.status_code == 302
            and "/suggestions/" in r.headers.get("Location", "")
        ):
            with self.lock:
                self.acks.suggestions.append(token)
                self.acks.suggestion_times[token] = self.now()

    def vote(self, s: requests.Session, login: str, rng: random.Random) -> bool:
        poll = self.info["poll"]
        r = self.call(s, login, "vote_form", "GET", f"/congress/votes/{poll}/vote/")
        if r is None:
            return False
        if r.status_code == 302:
            return "/done/" in r.headers.get("Location", "")  # voted already (an earlier try)
        if r.status_code != 200:
            return False
        forms = [f for f in post_forms(r.text) if "csrfmiddlewaretoken" in f["fields"]]
        if not forms:
            return False
        fields: dict[str, Any] = {"csrfmiddlewaretoken": forms[0]["fields"]["csrfmiddlewaretoken"]}
        for item in self.info["poll_items"]:
            fields[f"item-{item}"] = rng.choice(["for", "against", "abstain"])
        fields["confirm"] = "1"
        r = self.call(s, login, "vote", "POST", f"/congress/votes/{poll}/cast/", fields)
        if r is not None and r.status_code == 302 and "/done/" in r.headers.get("Location", ""):
            with self.lock:
                self.acks.votes.append(login)
            return True
        return False

    def answer(self, s: requests.Session, login: str) -> bool:
        survey = self.info["survey"]
        r = self.call(s, login, "survey_form", "GET", f"/surveys/{survey}/")
        if r is None or r.status_code != 200:
            return False
        forms = [
            f
            for f in post_forms(r.text)
            if any(re.match(r"^q", name) for name in f["fields"])
            and "csrfmiddlewaretoken" in f["fields"]
        ]
        if not forms:
            return True  # answered already, or not asked: nothing to do
        fields = {k: (v or "扩容测试") for k, v in forms[0]["fields"].items()}
        r = self.call(s, login, "answer", "POST", f"/surveys/{survey}/", fields)
        if r is not None and r.status_code == 302:
            with self.lock:
                self.acks.answers.append(login)
            return True
        return False

    def user(self, number: int) -> None:
        rng = random.Random(1000 + number)
        s = self.session()
        login = ""
        actions = 0
        voted = answered = True
        while not self.stop.is_set():
            if not login or actions >= 12:
                if login:
                    self.call(s, login, "logout", "POST", "/accounts/logout/",
                              {"csrfmiddlewaretoken": s.cookies.get("csrftoken", "")})  # fmt: skip
                s.close()
                s = self.session()
                login = self.pool.take()
                actions = 0
                if not self.login(s, login):
                    login = ""
                    self.stop.wait(1.0)
                    continue
                voted = login not in self.pool.voters or not self.info["poll"]
                answered = login not in self.pool.answerers or not self.info["survey"]
            actions += 1
            pick = rng.random()
            if not voted and pick < 0.25:
                voted = self.vote(s, login, rng)
            elif not answered and pick < 0.5:
                answered = self.answer(s, login)
            elif pick < 0.62:
                self.suggest(s, login)
            else:
                self.browse(s, login, rng)
            self.stop.wait(rng.uniform(0.15, 0.45))
        s.close()

    def start(self) -> None:
        self.t0 = time.monotonic()
        for number in range(self.users):
            thread = threading.Thread(target=self.user, args=(number,), daemon=True)
            self.threads.append(thread)
            thread.start()
            time.sleep(0.1)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(40)
