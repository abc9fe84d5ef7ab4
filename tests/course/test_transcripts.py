"""Console transcripts in lessons come from the engine and agree with it."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings

from podlab.course import transcripts
from podlab.course.content import LANGS, CourseError, Example, load_course
from podlab.course.render import render_lesson

COURSE = load_course(Path(settings.LESSONS_DIR))
LESSON_IDS = [lesson.slug for lesson in COURSE.lessons]
FENCE_RE = re.compile(r"^```(\w*)")
KUBECTL_OUTPUT_COMMANDS = re.compile(r"^\$ kubectl (get|describe|logs|top|events)\b")


def directives(text: str) -> list[transcripts.Transcript]:
    out, in_fence = [], False
    for line in text.splitlines():
        if FENCE_RE.match(line.strip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            transcript = transcripts.parse_directive(line)
            if transcript is not None:
                out.append(transcript)
            elif line.strip().startswith("[[kubectl"):
                pytest.fail(f"malformed transcript directive: {line!r}")
    return out


ALL = sorted(
    {(lesson.slug, t) for lesson in COURSE.lessons for t in directives(lesson.markdown("en"))},
    key=lambda item: (item[0], item[1].key, item[1].command),
)


def test_parse_directive():
    t = transcripts.parse_directive(
        "[[kubectl:crash@95 get pod crash | --delete-at 30 +svc@10 show=events]]")
    assert t.example == "crash" and t.at == 95 and t.command == "get pod crash"
    assert t.options == ("--delete-at", "30") and t.extra == (("svc", 10.0),)
    assert t.show == "events" and t.key == "crash@95"
    assert transcripts.parse_directive("[[example:crash]]") is None
    assert transcripts.parse_directive("[[kubectl:crash get pod]]") is None  # no moment


def test_moment_reads_like_kubectl():
    assert [transcripts.moment(s) for s in (5, 119, 155, 600, 725)] == [
        "5s", "119s", "2m35s", "10m", "12m"]


@pytest.mark.parametrize("command", ["exec x -- ls", "get secrets", "describe node n",
                                     "get pods --show-labels", "logs x --tail 3"])
def test_unsupported_commands_are_content_errors(command):
    with pytest.raises(CourseError):
        transcripts._view(command)


def _example(tmp_path: Path, text: str) -> dict[str, Example]:
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return {"demo": Example(id="demo", lesson_slug="x", path=path)}


POD = """apiVersion: v1
kind: Pod
metadata:
  name: demo
spec:
  restartPolicy: {policy}
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, "echo hello; exit {code}"]
"""


def test_output_is_the_engines_and_follows_an_edited_example(tmp_path):
    examples = _example(tmp_path, POD.format(policy="Never", code=0))
    t = transcripts.parse_directive("[[kubectl:demo@30 get pod demo]]")
    first = transcripts.engine_output(t, examples)
    assert first.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "Completed" in first and "30s" in first
    # The cache is keyed on the manifest text: editing the example changes the transcript.
    (tmp_path / "demo.yaml").write_text(POD.format(policy="Never", code=3), encoding="utf-8")
    second = transcripts.engine_output(t, examples)
    assert "Error" in second and second != first
    logs = transcripts.engine_output(
        transcripts.parse_directive("[[kubectl:demo@30 logs demo]]"), examples)
    assert logs == "hello\n"  # no podsim prefix: kubectl logs POD prints the bare lines


def test_unknown_row_or_example_is_an_error(tmp_path):
    examples = _example(tmp_path, POD.format(policy="Never", code=0))
    with pytest.raises(CourseError):
        transcripts.engine_output(
            transcripts.parse_directive("[[kubectl:demo@30 get pod other]]"), examples)
    with pytest.raises(CourseError):
        transcripts.engine_output(
            transcripts.parse_directive("[[kubectl:nope@30 get pods]]"), examples)


def test_lessons_use_generated_transcripts():
    assert len(ALL) >= 20, "lessons should show engine-generated transcripts"


@pytest.mark.parametrize("slug,transcript", ALL,
                         ids=[f"{s}:{t.key}:{t.command}" for s, t in ALL])
def test_every_transcript_agrees_with_the_engine(slug, transcript):
    """Run the engine afresh (no cache) and find its output on both rendered pages."""
    fresh = transcripts.engine_output(transcript, COURSE.examples, cached=False)
    expected = html.escape(fresh)
    for lang in LANGS:
        page = render_lesson(slug, lang).html
        assert expected in page, f"{slug} ({lang}): {transcript.key} differs from the engine"
        assert f'data-transcript="{transcript.key}"' in page


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_hand_written_kubectl_output_is_marked(slug):
    """A console block that shows kubectl output must be generated, or marked hand-written
    (something the engine does not simulate)."""
    lesson = COURSE.get(slug)
    for lang in LANGS:
        lines = lesson.markdown(lang).splitlines()
        previous_text_line = ""
        i = 0
        while i < len(lines):
            match = FENCE_RE.match(lines[i].strip())
            if not match:
                if lines[i].strip():
                    previous_text_line = lines[i].strip()
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
            body = lines[i + 1:end]
            shows_output = any(KUBECTL_OUTPUT_COMMANDS.match(b) for b in body) and any(
                b.strip() and not b.startswith("$") for b in body)
            if match.group(1) in ("console", "text", "") and shows_output:
                assert transcripts.HANDWRITTEN_RE.match(previous_text_line), (
                    f"{slug}/{lang}.md:{i + 1}: kubectl output written by hand; use a "
                    "[[kubectl:EXAMPLE@SECONDS ...]] directive or mark it [[handwritten]]"
                )
            previous_text_line = ""
            i = end + 1


@pytest.mark.parametrize("slug", LESSON_IDS)
def test_both_languages_show_the_same_transcripts(slug):
    lesson = COURSE.get(slug)
    en = [(t.key, t.command, t.options, t.show) for t in directives(lesson.markdown("en"))]
    zh = [(t.key, t.command, t.options, t.show) for t in directives(lesson.markdown("zh-hans"))]
    assert en == zh


def test_jsonpath_subset():
    pod = {"metadata": {"name": "p"}, "status": {"conditions": [
        {"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]},
        "spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}}
    assert transcripts.jsonpath(pod, "'{.metadata.name}{\"\\n\"}'") == "p\n"
    assert transcripts.jsonpath(
        pod, '{range .status.conditions[*]}{.type}={.status}{"\\n"}{end}'
    ) == "Ready=False\nPodScheduled=True\n"
    assert transcripts.jsonpath(pod, '{.status.conditions[?(@.type=="Ready")].status}') == "False"
    resources = transcripts.jsonpath(pod, "{.spec.containers[0].resources}")
    assert resources == '{"requests":{"cpu":"1"}}'
    with pytest.raises(CourseError):
        transcripts.jsonpath(pod, "{.status..phase}")


def test_views_beyond_get_pods(tmp_path):
    examples = _example(tmp_path, POD.format(policy="Always", code=1))
    run = lambda line: transcripts.engine_output(transcripts.parse_directive(line), examples)  # noqa: E731
    columns = run("[[kubectl:demo@30 get pods -o custom-columns=NAME:.metadata.name,"
                  "PHASE:.status.phase]]")
    assert columns.split() == ["NAME", "PHASE", "demo", "Running"]
    conditions = run("[[kubectl:demo@30 describe pod demo | show=conditions]]")
    assert conditions.startswith("...\nConditions:\n") and conditions.endswith("...\n")
    events = run("[[kubectl:demo@30 get events --sort-by=.lastTimestamp]]").splitlines()[1:]
    ages = [transcripts._seconds_ago(row.split()[0]) for row in events]
    assert ages == sorted(ages, reverse=True)
    gone = run("[[kubectl:demo@30 get pod demo | --delete-at 10]]")
    assert gone == 'Error from server (NotFound): pods "demo" not found\n'
    assert run("[[kubectl:demo@30 logs demo --previous | tail=1]]") == "hello\n"


def test_checktranscripts_command_runs_every_transcript():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("checktranscripts", stdout=out)
    count = int(out.getvalue().split()[0])
    assert count == 2 * len(ALL_LINES)


ALL_LINES = [line for lesson in COURSE.lessons for line in lesson.markdown("en").splitlines()
             if transcripts.parse_directive(line) is not None]


def test_nginx_php_fpm_case_is_run_by_the_engine():
    """Lesson 4's nginx + PHP-FPM case is an example the engine runs, not a listing."""
    lesson = COURSE.get("multi-container-patterns")
    found = {t.command: t for t in directives(lesson.markdown("en"))
             if t.example == "multi-container-patterns-nginx-php-fpm"}
    assert set(found) >= {"get pods -w", "logs shop -c copy-code", "logs shop -c php-fpm"}
    watch = transcripts.engine_output(found["get pods -w"], COURSE.examples, cached=False)
    statuses = [row.split()[2] for row in watch.splitlines()[1:]]
    assert statuses[-1] == "Running" and watch.splitlines()[-1].split()[1] == "2/2"
    assert statuses.index("Init:0/1") < statuses.index("PodInitializing")
    copied = transcripts.engine_output(found["logs shop -c copy-code"], COURSE.examples)
    assert copied.split() == ["index.php"]
    fpm = transcripts.engine_output(found["logs shop -c php-fpm"], COURSE.examples)
    assert "ready to handle connections" in fpm
    for lang in LANGS:
        assert "registry.example.com/shop/app" not in lesson.markdown(lang)


def test_port_conflict_claims_of_lesson_2():
    """Lesson 2: the second nginx's bind() fails with glibc's words, it retries, exits 1."""
    run = lambda line: transcripts.engine_output(  # noqa: E731
        transcripts.parse_directive(line), COURSE.examples, cached=False)
    logs = run("[[kubectl:pod-networking-port-conflict@10 logs port-conflict -c web-b]]")
    assert "bind() to 0.0.0.0:80 failed (98: Address already in use)" in logs
    assert "try again to bind() after 500ms" in logs
    described = run("[[kubectl:pod-networking-port-conflict@70 describe pod port-conflict]]")
    web_b = described.split("  web-b:", 1)[1]
    assert re.search(r"Last State:\s+Terminated\n\s+Reason:\s+Error\n\s+Exit Code:\s+1\n", web_b)


def test_namespaces_and_serviceaccounts_transcripts(tmp_path):
    examples = _example(tmp_path, POD.format(policy="Always", code=0))
    run = lambda line: transcripts.engine_output(transcripts.parse_directive(line), examples)  # noqa: E731
    assert run("[[kubectl:demo@30 get ns]]").splitlines() == [
        "NAME              STATUS   AGE", "default           Active   30s",
        "kube-node-lease   Active   30s", "kube-public       Active   30s",
        "kube-system       Active   30s"]
    assert run("[[kubectl:demo@30 get sa default]]").splitlines() == [
        "NAME      SECRETS   AGE", "default   0         30s"]
