"""What makes a new password acceptable, with the reason in words when it is not.

zxcvbn estimates how many guesses a password takes, from its shipped lists of common passwords,
words and names, keyboard patterns, sequences, repeats and dates; the centre's own guesses are
added below (common Chinese passwords in pinyin and digits), and the user's own details (工号,
name and its pinyin, team) are refused outright and also given to zxcvbn as likely guesses.
"""

from __future__ import annotations

from typing import Any

from xpinyin import Pinyin
from zxcvbn import zxcvbn
from zxcvbn.matching import add_frequency_lists

from kefu.core.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 128
# zxcvbn's scale: 2 = at least 10^8 guesses, "safe from unthrottled online attacks"; logins are
# throttled and hashes are argon2, so this is the floor rather than the goal.
MIN_SCORE = 2

# Common passwords of Chinese users that zxcvbn's English lists miss (most common first).
CHINESE_PASSWORDS = [
    "woaini1314", "5201314", "1314520", "woaini520", "aini1314", "woaini", "wodemima", "mima", "nihao",
    "qq123456", "a123456", "a123456789", "a12345678", "abc123456", "123456abc", "qwe123456", "1qaz2wsx",
    "1q2w3e4r", "qazwsxedc", "zxcvbnm", "asdfghjkl", "147258369", "147852369", "159357", "123654789",
    "789456123", "7758521", "5211314", "584520", "520520", "zhongguo", "woshishui", "dearbook", "xiazhili",
    "31415926", "110110110", "88888888", "66666666", "12344321", "11223344",
]  # fmt: skip
add_frequency_lists({"chinese_passwords": CHINESE_PASSWORDS})
COMMON_LISTS = frozenset({"passwords", "chinese_passwords"})

_pinyin = Pinyin()
ADVICE = "请换一个更长、不常见的密码,例如用几个不相关的词,再加上数字或符号"


def name_pinyin(name: str) -> list[str]:
    """The spellings of a Chinese name that people put in passwords: lixiao, xiaoli."""
    syllables = [s for s in _pinyin.get_pinyin(name, " ").split() if s.isascii() and s.isalpha()]
    if len(syllables) < 2:
        return []
    surname, given = syllables[0], "".join(syllables[1:])
    return [surname + given, given + surname]


def problem(password: str, *, agent_no: str = "", name: str = "", team: str | None = None) -> str | None:
    """Why ``password`` is not acceptable for this person, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 位"
    if len(password) > MAX_LENGTH:
        return f"密码最多 {MAX_LENGTH} 位"
    lowered = password.lower()
    agent_no, name, team = agent_no.strip(), name.strip(), (team or "").strip()
    spellings = name_pinyin(name) if name else []
    if len(agent_no) >= 3 and agent_no.lower() in lowered:
        return "密码不能包含自己的工号"
    if (len(name) >= 2 and name in password) or any(s in lowered for s in spellings):
        return "密码不能包含自己的姓名或姓名拼音"
    if len(team) >= 2 and team.lower() in lowered:
        return "密码不能包含所在班组的名称"
    result = zxcvbn(password, user_inputs=[v for v in (agent_no, name, team, *spellings) if v])
    if result["score"] >= MIN_SCORE:
        return None
    return f"密码太容易被猜中:{_why(result['sequence'])}。{ADVICE}"


def _why(sequence: list[dict[str, Any]]) -> str:
    """The weakest part zxcvbn found, in words (never quoting the password itself)."""
    if len(sequence) == 1 and sequence[0].get("dictionary_name") in COMMON_LISTS:
        return "这是常见密码之一,攻击者最先尝试"
    patterns = {(m["pattern"], m.get("dictionary_name")) for m in sequence}
    kinds = {pattern for pattern, _ in patterns}
    dictionaries = {dictionary for _, dictionary in patterns if dictionary}
    if dictionaries & COMMON_LISTS:
        return "包含常见密码(如 password、123456)"
    if "user_inputs" in dictionaries:
        return "包含自己的工号、姓名或班组"
    if "spatial" in kinds:
        return "包含键盘上相连的按键(如 qwer、1qaz)"
    if "sequence" in kinds:
        return "包含连续的字母或数字(如 abcd、1234)"
    if "repeat" in kinds:
        return "包含重复的字符(如 aaaa、1212)"
    if kinds & {"date", "regex"}:
        return "包含日期或年份"
    if "dictionary" in kinds:
        return "由常见的单词或人名组成"
    return "太短或太简单"


def check(password: str, *, agent_no: str = "", name: str = "", team: str | None = None) -> None:
    reason = problem(password, agent_no=agent_no, name=name, team=team)
    if reason is not None:
        raise Invalid(reason)
