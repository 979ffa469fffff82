"""The labelling loop: order, the lines it writes, skip, undo, quit and resume, bad output files."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from outage_signals.catalog import services_for
from outage_signals.classifying import load_labeled
from outage_signals.errors import InputError
from outage_signals.labeling import (
    HELP,
    KIND_PROMPT,
    PROMPT,
    Item,
    Summary,
    already_labeled,
    label_loop,
    rank,
)
from outage_signals.records import Post, post_from_dict
from tests.conftest import record, write_lines


class Terminal:
    """A scripted user: ``ask`` returns the next answer, then raises EOFError like a closed stdin."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)

    def say(self, text: str) -> None:
        self.said.append(text)

    def shown(self) -> list[str]:
        """The header line of each item shown, in order."""
        return [block.splitlines()[0] for block in self.said if block.startswith("[")]


def item(i: int, probability: float, text: str | None = None, service: str = "chatgpt",
         **fields) -> Item:
    post = post_from_dict(record(i, text=text or f"is chatgpt down? ({i})", **fields))
    return Item(post, service, probability)


def run(items, path, *answers, threshold=0.5, **kwargs) -> tuple[Summary, Terminal]:
    term = Terminal(*answers)
    summary = label_loop(items, path, threshold, term.ask, term.say, **kwargs)
    return summary, term


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected(i: int, label: int, kind=None, lang=None, service="chatgpt", text=None) -> dict:
    return {"text": text or f"is chatgpt down? ({i})", "service": service, "label": label,
            "kind": kind, "lang": lang, "id": str(i), "source": "twitter"}


def test_rank_puts_the_most_uncertain_first_and_keeps_order_on_ties():
    probs = [0.9, 0.6, 0.1, 0.4, 0.55, 0.45]
    ranked = rank([item(i, p) for i, p in enumerate(probs)], threshold=0.5)
    # 0.55/0.45 tie at 0.05, 0.6/0.4 at 0.1 (despite float error), 0.9/0.1 at 0.4.
    assert [it.post.id for it in ranked] == ["4", "5", "1", "3", "0", "2"]
    ranked = rank([item(i, p) for i, p in enumerate(probs)], threshold=0.85)
    assert [it.post.id for it in ranked] == ["0", "1", "4", "5", "3", "2"]


def test_rank_rejects_a_probability_outside_0_1():
    with pytest.raises(ValueError, match="within 0–1"):
        rank([item(1, 1.5)], 0.5)


def test_yes_and_no_write_corpus_lines_in_order_of_uncertainty(tmp_path):
    out = tmp_path / "labels" / "mine.jsonl"
    items = [item(1, 0.95, lang="en"), item(2, 0.52), item(3, 0.1, lang="de")]
    summary, term = run(items, out, "y", "N", " y ")
    # Distances from 0.5: 0.02, 0.4, 0.45.
    assert out.read_text(encoding="utf-8") == "".join(json.dumps(obj) + "\n" for obj in [
        expected(2, 1), expected(3, 0, lang="de"), expected(1, 1, lang="en")])
    assert summary == Summary(relevant=2, not_relevant=1, skipped=0, remaining=0, already=0)
    assert term.shown() == ["[1/3] chatgpt  P(relevant) 0.52 (threshold 0.50)",
                            "[2/3] chatgpt  P(relevant) 0.10 (threshold 0.50)",
                            "[3/3] chatgpt  P(relevant) 0.95 (threshold 0.50)"]
    assert term.said[0] == "[1/3] chatgpt  P(relevant) 0.52 (threshold 0.50)\n  is chatgpt down? (2)"
    assert term.prompts == [PROMPT] * 3
    # The corpus loader reads the file as it is.
    assert [(e.text, e.service, e.label, e.lang) for e in load_labeled(str(out))] == [
        ("is chatgpt down? (2)", "chatgpt", 1, None), ("is chatgpt down? (3)", "chatgpt", 0, "de"),
        ("is chatgpt down? (1)", "chatgpt", 1, "en")]


def test_skip_writes_nothing_and_the_item_comes_back_next_session(tmp_path):
    out = tmp_path / "labels.jsonl"
    items = [item(1, 0.5), item(2, 0.6), item(3, 0.9)]
    summary, _ = run(items, out, "s", "q")
    assert not out.exists()
    assert summary == Summary(relevant=0, not_relevant=0, skipped=1, remaining=3, already=0)

    summary, term = run(items, out, "n", "s", "q")
    assert lines(out) == [expected(1, 0)]
    assert term.shown()[0].startswith("[1/3] chatgpt  P(relevant) 0.50")
    assert summary == Summary(relevant=0, not_relevant=1, skipped=1, remaining=2, already=0)


def test_undo_removes_the_last_label_and_asks_that_item_again(tmp_path):
    out = tmp_path / "labels.jsonl"
    items = [item(1, 0.5), item(2, 0.6), item(3, 0.7), item(4, 0.9)]
    summary, term = run(items, out, "y", "n", "u", "y", "u", "u", "u", "n", "y", "q")
    # y(1) n(2) u -> 2 again, y(2) u -> 2 again, u -> 1 again, u -> nothing to undo, 1 again,
    # n(1) y(2) then quit at 3.
    assert out.read_text(encoding="utf-8") == (
        json.dumps(expected(1, 0)) + "\n" + json.dumps(expected(2, 1)) + "\n")
    assert [h.split()[0] for h in term.shown()] == [
        "[1/4]", "[2/4]", "[3/4]", "[2/4]", "[3/4]", "[2/4]", "[1/4]", "[1/4]", "[2/4]", "[3/4]"]
    assert "nothing to undo in this session" in term.said
    assert summary == Summary(relevant=1, not_relevant=1, skipped=0, remaining=2, already=0)


def test_undo_goes_back_past_skipped_items_which_are_asked_again(tmp_path):
    out = tmp_path / "labels.jsonl"
    items = [item(1, 0.5), item(2, 0.6), item(3, 0.7)]
    summary, term = run(items, out, "y", "s", "u", "n", "y", "y")
    assert lines(out) == [expected(1, 0), expected(2, 1), expected(3, 1)]
    assert [h.split()[0] for h in term.shown()] == ["[1/3]", "[2/3]", "[3/3]", "[1/3]", "[2/3]", "[3/3]"]
    assert summary == Summary(relevant=2, not_relevant=1, skipped=0, remaining=0, already=0)


def test_undo_keeps_earlier_sessions_and_file_permissions(tmp_path):
    out = tmp_path / "labels.jsonl"
    write_lines(out, ['{"text": "Ist WhatsApp down?", "service": "whatsapp", "label": 1}'])
    out.chmod(0o640)
    run([item(1, 0.5), item(2, 0.6)], out, "y", "u", "q")
    assert out.read_text(encoding="utf-8") == (
        '{"text": "Ist WhatsApp down?", "service": "whatsapp", "label": 1}\n')
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]  # no temporary file left


def test_quit_then_resume_continues_where_it_stopped_and_never_duplicates(tmp_path):
    out = tmp_path / "labels.jsonl"
    items = [item(1, 0.45), item(2, 0.6), item(3, 0.8), item(4, 0.05)]
    summary, term = run(items, out, "y", "n", "q")
    assert summary == Summary(relevant=1, not_relevant=1, skipped=0, remaining=2, already=0)

    summary, term = run(items, out, "y", "n")
    assert term.shown() == ["[1/2] chatgpt  P(relevant) 0.80 (threshold 0.50)",
                            "[2/2] chatgpt  P(relevant) 0.05 (threshold 0.50)"]
    assert summary == Summary(relevant=1, not_relevant=1, skipped=0, remaining=0, already=2)
    assert lines(out) == [expected(1, 1), expected(2, 0), expected(3, 1), expected(4, 0)]

    summary, term = run(items, out)
    assert term.prompts == [] and term.said == []
    assert summary == Summary(relevant=0, not_relevant=0, skipped=0, remaining=0, already=4)
    assert len(lines(out)) == 4


def test_a_pair_given_twice_is_asked_once(tmp_path):
    out = tmp_path / "labels.jsonl"
    _, term = run([item(1, 0.5), item(1, 0.5), item(2, 0.9)], out, "y", "n")
    assert lines(out) == [expected(1, 1), expected(2, 0)]
    assert term.shown()[-1].startswith("[2/2]")


def test_posts_without_service_are_labelled_once_per_named_service(tmp_path, catalog):
    out = tmp_path / "labels.jsonl"
    post = post_from_dict(record(7, text="Discord is down so I'm on ChatGPT"))
    services = services_for(post.service, post.text, catalog)
    assert services == ["discord", "chatgpt"]
    items = [Item(post, "discord", 0.7), Item(post, "chatgpt", 0.4)]
    run(items, out, "n", "y")
    text = "Discord is down so I'm on ChatGPT"
    assert lines(out) == [expected(7, 0, service="chatgpt", text=text),
                          expected(7, 1, service="discord", text=text)]
    summary, term = run(items, out)
    assert summary.already == 2 and term.prompts == []


def test_lines_without_id_are_matched_by_normalised_text(tmp_path):
    out = write_lines(tmp_path / "labels.jsonl", [
        {"text": "Is  ChatGPT\tDOWN?", "service": "chatgpt", "label": 1, "kind": "is_it_down"},
        "",
        {"text": "is chatgpt down?", "service": "discord", "label": 0, "note": "extra is fine"},
        {"text": "x", "service": "chatgpt", "label": True, "id": 5, "source": "bluesky"},
    ])
    assert already_labeled(out) == {("text", "is chatgpt down?", "chatgpt"),
                                     ("text", "is chatgpt down?", "discord"),
                                     ("post", "bluesky", "5", "chatgpt")}
    items = [item(1, 0.5, text="is chatgpt down?"), item(2, 0.5, text="is chatgpt down?!"),
             Item(post_from_dict(record(5, source="bluesky")), "chatgpt", 0.5)]
    summary, term = run(items, out, "y")
    assert summary == Summary(relevant=1, not_relevant=0, skipped=0, remaining=0, already=2)
    assert len(term.shown()) == 1
    last = (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(last) == expected(2, 1, text="is chatgpt down?!")


def test_a_post_without_id_is_identified_by_its_text(tmp_path):
    out = tmp_path / "labels.jsonl"
    post = Post(id="", source="", created_at=datetime(2024, 1, 1, tzinfo=UTC), text="Steam  down?")
    run([Item(post, "steam", 0.5)], out, "y")
    assert out.read_text(encoding="utf-8") == (
        '{"text": "Steam  down?", "service": "steam", "label": 1, "kind": null, "lang": null}\n')
    summary, term = run([Item(post, "steam", 0.5)], out)
    assert summary.already == 1 and term.prompts == []


@pytest.mark.parametrize(("bad", "problem"), [
    ("{not json", "Expecting property name"),
    ('{"text": "a", "label": 1}', "'service'"),
    ('{"text": "a", "service": "x", "label": 2}', "label must be 0 or 1"),
    ("[1, 2]", "expected a JSON object"),
])
def test_a_malformed_line_in_the_output_names_file_and_line(tmp_path, bad, problem):
    good = '{"text": "a", "service": "chatgpt", "label": 1}'
    out = write_lines(tmp_path / "labels.jsonl", [good, "", bad])
    before = (tmp_path / "labels.jsonl").read_bytes()
    term = Terminal("y")
    with pytest.raises(InputError) as info:
        label_loop([item(1, 0.5)], out, 0.5, term.ask, term.say)
    assert str(info.value).startswith(f"{out}:3: not a labelled example (")
    assert problem in str(info.value)
    assert term.prompts == []
    assert (tmp_path / "labels.jsonl").read_bytes() == before


def test_undecodable_output_names_file_and_line(tmp_path):
    out = tmp_path / "labels.jsonl"
    out.write_bytes(b'{"text": "a", "service": "s", "label": 0}\n{"text": "\xff"}\n')
    with pytest.raises(InputError, match=r"labels\.jsonl:2: not a labelled example \('utf-8'"):
        already_labeled(out)


def test_end_of_input_acts_as_quit(tmp_path):
    out = tmp_path / "labels.jsonl"
    summary, term = run([item(1, 0.5), item(2, 0.6), item(3, 0.7)], out, "y")
    assert lines(out) == [expected(1, 1)]
    assert term.prompts == [PROMPT, PROMPT]
    assert summary == Summary(relevant=1, not_relevant=0, skipped=0, remaining=2, already=0)


def test_interrupt_while_asking_acts_as_quit(tmp_path):
    out = tmp_path / "labels.jsonl"

    def ask(prompt):
        raise KeyboardInterrupt

    summary = label_loop([item(1, 0.5)], out, 0.5, ask, lambda text: None)
    assert summary == Summary(relevant=0, not_relevant=0, skipped=0, remaining=1, already=0)
    assert not out.exists()


def test_unknown_answers_and_help_ask_again_without_showing_the_item_again(tmp_path):
    out = tmp_path / "labels.jsonl"
    _, term = run([item(1, 0.5)], out, "x", "", "yes", "?", "y")
    assert term.prompts == [PROMPT] * 5
    assert term.said[1:] == [
        "unknown answer 'x': type y, n, s, u, q or ? for help",
        "unknown answer '': type y, n, s, u, q or ? for help",
        "unknown answer 'yes': type y, n, s, u, q or ? for help",
        HELP,
    ]
    assert len(term.shown()) == 1
    assert lines(out) == [expected(1, 1)]


def test_kind_is_asked_only_when_wanted(tmp_path):
    out = tmp_path / "labels.jsonl"
    items = [item(1, 0.5), item(2, 0.6), item(3, 0.7)]
    summary, term = run(items, out, "y", "two words", " is_it_down ", "n", "", "y", ask_kind=True)
    assert term.prompts == [PROMPT, KIND_PROMPT, KIND_PROMPT, PROMPT, KIND_PROMPT, PROMPT, KIND_PROMPT]
    assert lines(out) == [expected(1, 1, kind="is_it_down"), expected(2, 0)]
    assert summary.remaining == 1  # end of input at the kind prompt writes nothing for item 3


def test_kind_prompt_is_off_by_default(tmp_path):
    out = tmp_path / "labels.jsonl"
    _, term = run([item(1, 0.5)], out, "y")
    assert KIND_PROMPT not in term.prompts


def test_text_is_wrapped_and_control_characters_are_not_sent_to_the_terminal(tmp_path):
    text = "chatgpt \x1b[2Jdown " + "again " * 14 + "\nsecond line"
    term = Terminal("q")
    label_loop([item(1, 0.5, text=text, url="https://x.com/a/status/1")], tmp_path / "o.jsonl",
               0.5, term.ask, term.say, width=40)
    assert term.said[0].splitlines()[1:] == [
        "  chatgpt  [2Jdown again again again",
        "  again again again again again again",
        "  again again again again again",
        "  second line",
        "  https://x.com/a/status/1",
    ]


def test_a_missing_final_newline_does_not_merge_lines(tmp_path):
    out = tmp_path / "labels.jsonl"
    out.write_text('{"text": "a", "service": "steam", "label": 0}', encoding="utf-8")
    run([item(1, 0.5)], out, "y")
    assert lines(out) == [{"text": "a", "service": "steam", "label": 0}, expected(1, 1)]


@pytest.mark.parametrize("name", ["-", "labels.jsonl.gz"])
def test_stdout_and_gzip_outputs_are_refused(tmp_path, name):
    path = name if name == "-" else tmp_path / name
    with pytest.raises(InputError, match=r"plain \.jsonl file"):
        label_loop([item(1, 0.5)], path, 0.5, Terminal().ask, Terminal().say)


def test_answers_are_on_disk_before_the_session_ends(tmp_path):
    out = tmp_path / "labels.jsonl"
    term = Terminal("y", "n", "y")

    def say(text):
        if text.startswith("[3/3]"):
            raise RuntimeError("terminal gone")
        term.say(text)

    with pytest.raises(RuntimeError):
        label_loop([item(1, 0.5), item(2, 0.6), item(3, 0.7)], out, 0.5, term.ask, say)
    assert lines(out) == [expected(1, 1), expected(2, 0)]
