from pathlib import Path

import pytest

from rag.errors import InputFileError
from rag.ingest.loader import find_posts, load_article

from .conftest import SEED, SEED_ID, write_post


def test_seed_has_28_numbered_paragraphs_and_metadata():
    a = load_article(SEED)
    assert a.doc_id == SEED_ID
    assert a.title == "加快打造长三角产业中轴 奋力建设国际化智造名城"
    assert a.date == "2022-02-08"
    assert a.categories == ("changzhouribao",)
    assert a.tags == ("常州日报新闻",)
    assert a.source_url == "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202202082269362486"
    assert len(a.paragraphs) == 28
    assert a.paragraph(1) == "重振产业雄风，再创一个热血沸腾激情年代"
    assert a.paragraph(9).startswith("市委副书记、代理市长盛蕾主持会议")
    assert "到2025年上市企业超过150家" in a.paragraph(13)
    assert a.paragraph(28) == "（文章来源：常州日报）"


def test_seed_drops_navigation_links_and_source_line():
    text = "\n".join(load_article(SEED).paragraphs)
    assert "返回" not in text and "finews" not in text and "http" not in text


def test_entities_decoded_and_whitespace_normalized(tmp_path):
    p = write_post(tmp_path, "e.md", "实体", "2023-01-02", ["A&amp;B  &lt;tag&gt;\u3000 尾", "", "   "])
    a = load_article(p)
    assert a.paragraphs == ("A&B <tag> 尾",)


def test_plain_markdown_body_falls_back_to_blank_lines(tmp_path):
    p = tmp_path / "plain.markdown"
    p.write_text(
        "---\ntitle: 纯文本\ndate: 2023-05-01\ncategories: [a, b]\n---\n# 标题行\n\n第一段，说了一件事。\n第一段的第二行。\n\n第二段。\n\n<https://example.com/x>\n\n[返回首页](//example.com/)\n",
        encoding="utf-8",
    )
    a = load_article(p)
    assert a.paragraphs == ("标题行", "第一段，说了一件事。 第一段的第二行。", "第二段。")
    assert a.source_url == "https://example.com/x"
    assert a.categories == ("a", "b")


def test_html_file_without_front_matter_uses_its_title(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>网页标题</title></head><body><p>正文一。</p><p>正文二。</p></body></html>",
        encoding="utf-8",
    )
    a = load_article(p)
    assert a.title == "网页标题" and a.paragraphs == ("正文一。", "正文二。") and a.date == ""


def test_gbk_file_is_decoded_with_a_warning(tmp_path):
    p = tmp_path / "gbk.txt"
    p.write_bytes("---\ntitle: 编码\ndate: 2022-01-01\n---\n<p>常州市召开大会。</p>\n".encode("gbk"))
    warnings: list = []
    a = load_article(p, warnings)
    assert a.paragraphs == ("常州市召开大会。",)
    (w,) = warnings
    assert w.code == "not_utf8" and "GB18030" in w.detail and str(p) in w.detail


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"---\ntitle: [unclosed\ndate: 2022-01-01\n---\n<p>x</p>", "front matter is not valid YAML"),
        (b"---\ntitle: t\ndate: 2022-01-01\n---\n", "no paragraphs"),
        (b"---\ntitle: t\ndate: yesterday\n---\n<p>x</p>", "'date'"),
    ],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, content, problem):
    p = tmp_path / "bad.md"
    p.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        load_article(p)
    msg = str(err.value)
    assert str(p) in msg and problem in msg and "\n" not in msg


def test_oversized_file_is_refused(tmp_path):
    p = tmp_path / "huge.md"
    p.write_bytes(b"---\ntitle: t\n---\n" + b"<p>" + "字".encode() * (7 * 1024 * 1024) + b"</p>")
    with pytest.raises(InputFileError, match="larger than"):
        load_article(p)


def test_find_posts_walks_folders_and_reports_missing_paths(tmp_path):
    write_post(tmp_path / "a", "x.md", "X", "2022-01-01", ["一。"])
    write_post(tmp_path / "a" / "b", "y.txt", "Y", "2022-01-01", ["二。"])
    (tmp_path / "a" / "notes.pdf").write_bytes(b"%PDF")
    assert [p.name for p in find_posts([tmp_path / "a"])] == ["y.txt", "x.md"] or [
        p.name for p in find_posts([tmp_path / "a"])
    ] == ["x.md", "y.txt"]
    with pytest.raises(InputFileError, match="no such file"):
        find_posts([tmp_path / "nope"])


def test_paragraph_numbers_are_stable_for_a_file():
    assert load_article(SEED).paragraphs == load_article(Path(str(SEED))).paragraphs
