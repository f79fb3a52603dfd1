"""Posting to chat robots (WeCom, DingTalk, Feishu) and the signed webhook, against a
loopback receiver that checks each request as the platform documents it."""

from __future__ import annotations

import json

import pytest

from gongkai.notify import robots
from gongkai.notify.robots import DeliveryError

# The receivers' fixtures (robot_receiver).
pytest_plugins = ["tests.receivers"]

PLATFORMS = ["wecom", "dingtalk", "feishu", "webhook"]
SIGNING = ["dingtalk", "feishu", "webhook"]  # WeCom group robots do not sign
SECRET = "SECb7e1f0c4d2a9-very-secret"
LINK = "https://gk.example/disclosures/42/"
TITLE = "锅炉分场公开了《2025年第三季度班组费用》"
TEXT = f"{TITLE}\n\n请按时查看。\n\n{LINK}"


def send(
    platform: str,
    url: str,
    secret: str = "",
    *,
    title: str = TITLE,
    text: str = TEXT,
    timeout: float = 5,
) -> None:
    robots.post(platform, url, secret, title=title, text=text, timeout=timeout)


def refused(receiver, platform: str, url: str, secret: str = "", **kwargs: object) -> str:
    """Send, expect a DeliveryError, and check that it gives away neither the address's key
    nor the secret; its message."""
    with pytest.raises(DeliveryError) as caught:
        send(platform, url, secret, **kwargs)  # type: ignore[arg-type]
    reason = str(caught.value)
    assert reason
    assert url not in reason
    key = receiver.key_of(url)
    assert key not in reason
    if secret:
        assert secret not in reason
    # Nothing chained that a log would print either.
    assert caught.value.__cause__ is None or url not in str(caught.value.__cause__)
    return reason


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_accepts_an_unsigned_message(platform, robot_receiver):
    url = robot_receiver.add(platform)
    send(platform, url)
    [posted] = robot_receiver.to(url)
    assert posted.platform == platform
    assert "请按时查看。" in posted.text
    assert LINK in posted.text
    assert TITLE in posted.everything


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_platform_accepts_a_message_signed_with_its_secret(platform, robot_receiver):
    url = robot_receiver.add(platform, secret=SECRET)
    send(platform, url, SECRET)
    [posted] = robot_receiver.to(url)
    assert "请按时查看。" in posted.text
    # The secret itself never travels: only the signature made with it.
    assert SECRET not in json.dumps(posted.body, ensure_ascii=False)
    assert SECRET not in json.dumps(posted.query) + json.dumps(posted.headers)


def test_the_messages_have_each_platforms_documented_shape(robot_receiver):
    urls = {p: robot_receiver.add(p, secret=SECRET) for p in PLATFORMS}
    for platform, url in urls.items():
        send(platform, url, SECRET)
    wecom, dingtalk, feishu, webhook = (robot_receiver.to(urls[p])[0] for p in PLATFORMS)

    assert wecom.body["msgtype"] == "markdown"
    content = wecom.body["markdown"]["content"]
    assert content.startswith(f"**{TITLE}**")  # the title in bold, once
    assert content.count(TITLE) == 1
    assert f"[{LINK}]({LINK})" in content  # the link as a link

    assert dingtalk.body["msgtype"] == "markdown"
    assert dingtalk.body["markdown"]["title"] == TITLE
    assert set(dingtalk.query) == {"access_token", "timestamp", "sign"}
    assert len(dingtalk.query["timestamp"]) == 13  # milliseconds

    assert feishu.body["msg_type"] == "post"
    post = feishu.body["content"]["post"]["zh_cn"]
    assert post["title"] == TITLE
    assert [{"tag": "a", "text": LINK, "href": LINK}] in post["content"]
    assert isinstance(feishu.body["timestamp"], str) and len(feishu.body["timestamp"]) == 10

    assert webhook.body["event"] == "notice"
    assert webhook.body["title"] == TITLE and webhook.body["text"] == TEXT
    assert webhook.headers["x-gongkai-signature"].startswith("sha256=")
    assert webhook.headers["x-gongkai-timestamp"].isdigit()


@pytest.mark.parametrize(
    ("platform", "code"),
    [("dingtalk", "310000"), ("feishu", "19021"), ("webhook", "HTTP 401")],
)
def test_a_wrong_secret_is_refused_and_reported(platform, code, robot_receiver):
    url = robot_receiver.add(platform, secret=SECRET)
    reason = refused(robot_receiver, platform, url, "SECnot-the-right-one")
    assert code in reason
    assert robot_receiver.messages == []
    assert robot_receiver.refusals


@pytest.mark.parametrize("platform", SIGNING)
def test_a_robot_that_signs_refuses_an_unsigned_message(platform, robot_receiver):
    url = robot_receiver.add(platform, secret=SECRET)
    refused(robot_receiver, platform, url, "")
    assert robot_receiver.messages == []


@pytest.mark.parametrize("platform", SIGNING)
def test_a_signature_too_old_or_from_the_future_is_refused(platform, robot_receiver):
    url = robot_receiver.add(platform, secret=SECRET)
    robot_receiver.skew = 2 * 3600  # the platform's clock two hours ahead of ours
    refused(robot_receiver, platform, url, SECRET)
    robot_receiver.skew = -2 * 3600
    refused(robot_receiver, platform, url, SECRET)
    assert robot_receiver.messages == []


@pytest.mark.parametrize(
    ("platform", "code"),
    [("wecom", "93000"), ("dingtalk", "300001"), ("feishu", "19001"), ("webhook", "HTTP 404")],
)
def test_an_unknown_robot_key_is_reported_with_the_platforms_code(platform, code, robot_receiver):
    url = robot_receiver.url_for(platform, "0123456789abcdef-not-registered")
    assert code in refused(robot_receiver, platform, url)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unreachable_robot_is_reported_without_its_address(platform, robot_receiver):
    url = robot_receiver.add(platform, secret=SECRET)
    robot_receiver.stop()
    reason = refused(robot_receiver, platform, url, SECRET)
    assert "unreachable" in reason or "无法连接" in reason


def test_a_robot_that_does_not_answer_in_time_is_reported(robot_receiver):
    url = robot_receiver.add("dingtalk")
    robot_receiver.hang_next()
    refused(robot_receiver, "dingtalk", url, timeout=0.5)
    assert robot_receiver.messages == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_server_error_is_reported_with_its_status(platform, robot_receiver):
    url = robot_receiver.add(platform)
    robot_receiver.fail_next(how="http")
    assert "HTTP 500" in refused(robot_receiver, platform, url)
    send(platform, url)  # and the next one goes through
    assert len(robot_receiver.to(url)) == 1


@pytest.mark.parametrize(
    ("platform", "code"),
    [("wecom", "-1"), ("dingtalk", "-1"), ("feishu", "11232"), ("webhook", "HTTP 503")],
)
def test_a_platform_error_code_is_reported(platform, code, robot_receiver):
    url = robot_receiver.add(platform)
    robot_receiver.fail_next(how="platform")
    assert code in refused(robot_receiver, platform, url)


def test_older_feishu_answers_with_statuscode_only_count_as_accepted(robot_receiver):
    url = robot_receiver.add("feishu", secret=SECRET)
    robot_receiver.feishu_legacy = True
    send("feishu", url, SECRET)
    assert len(robot_receiver.to(url)) == 1


@pytest.mark.parametrize(
    "address",
    [
        "ftp://127.0.0.1/robot",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "//qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
        "",
        "http:///no-host",
    ],
)
def test_only_http_and_https_addresses_are_used(address, robot_receiver):
    with pytest.raises(DeliveryError):
        send("webhook", address)
    assert robot_receiver.requests == 0


def test_an_unknown_platform_is_refused(robot_receiver):
    with pytest.raises(DeliveryError):
        send("telegram", robot_receiver.add("webhook"))
    assert robot_receiver.requests == 0


def test_a_redirect_that_would_change_the_method_is_not_followed(robot_receiver):
    url = robot_receiver.add("webhook")
    robot_receiver.redirect_next(url, code=302)
    reason = refused(robot_receiver, "webhook", url)
    assert "302" in reason
    assert robot_receiver.messages == []


def test_a_redirect_that_keeps_method_and_scheme_is_followed(robot_receiver):
    url = robot_receiver.add("webhook")
    robot_receiver.redirect_next(url, code=307)
    send("webhook", url)
    assert len(robot_receiver.to(url)) == 1


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_a_redirect_to_another_scheme_is_not_followed(location, robot_receiver):
    url = robot_receiver.add("webhook")
    robot_receiver.redirect_next(location, code=307)
    refused(robot_receiver, "webhook", url)
    assert robot_receiver.requests == 1


def test_long_messages_are_cut_to_each_platforms_limit(robot_receiver):
    text = f"{TITLE}\n\n" + "职工代表大会决议全文。" * 3000 + f"\n\n{LINK}"  # ~99 KB
    for platform in PLATFORMS:
        url = robot_receiver.add(platform, secret=SECRET)
        send(platform, url, SECRET, text=text)  # accepted: the receiver checks the limits
        [posted] = robot_receiver.to(url)
        assert posted.text.endswith(robots.ELLIPSIS)
    wecom = robot_receiver.messages[0]
    assert len(wecom.body["markdown"]["content"].encode()) <= 4096


def test_a_title_is_one_line(robot_receiver):
    url = robot_receiver.add("dingtalk")
    send("dingtalk", url, title="第一行\n第二行\r\n", text="正文")
    [posted] = robot_receiver.to(url)
    assert posted.title == "第一行 第二行"


def test_the_signatures_follow_each_platforms_rule():
    # DingTalk: key = secret, message = "timestamp\nsecret"; Feishu: the reverse, over b"".
    import base64
    import hashlib
    import hmac

    ding = base64.b64encode(
        hmac.new(b"s3cret", b"1700000000000\ns3cret", hashlib.sha256).digest()
    ).decode()
    assert robots.dingtalk_sign("s3cret", "1700000000000") == ding
    feishu = base64.b64encode(hmac.new(b"1700000000\ns3cret", b"", hashlib.sha256).digest())
    assert robots.feishu_sign("s3cret", "1700000000") == feishu.decode()
    body = b'{"event":"notice"}'
    hexed = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert robots.webhook_signature("s3cret", "1700000000", body) == f"sha256={hexed}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_message_that_is_only_its_title_or_has_none_is_still_well_formed(
    platform, robot_receiver
):
    url = robot_receiver.add(platform)
    send(platform, url, title=TITLE, text=TITLE)
    send(platform, url, title="", text="只有正文的通知")
    first, second = robot_receiver.to(url)
    assert TITLE in first.everything
    assert "只有正文的通知" in second.everything
