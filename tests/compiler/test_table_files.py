"""Tables read from a CSV file beside the policy: typed cells checked at load, each problem at
`file.csv:line:column`; the compiled-policy cache reads an edited file again."""
import pytest

from rplang.compiler import cache, compile_policy_cached
from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy
from rplang.runtime.decide import CompiledPolicy

POLICY = '''policy "Marketplace"
enum Category: camera, drone
request:
  seller: text
  category: Category
outcomes:
  approve "APPROVED"
output fee: money total
table seller_fee by text, Category: fee: money, window: days from "sellers.csv"
  otherwise: 0.00, 14 days
rule fee:
  when seller_fee[seller, category].fee > 0.00
  then approve add seller_fee[seller, category].fee to fee
  because "the seller's fee, {seller_fee[seller, category].fee}"
'''
GOOD = 'seller,category,fee,window\nacme,camera,2.50,30 days\n"big, shop",drone,1.00,7\n'


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "p.rpl").write_text(POLICY)
    (tmp_path / "sellers.csv").write_text(GOOD)
    return tmp_path


def problems(folder, csv_text: str) -> list[str]:
    (folder / "sellers.csv").write_text(csv_text)
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl")
    return [d.render().replace(str(folder), "DIR") for d in error.value.diagnostics]


def test_rows_from_the_file_and_the_otherwise_row_below(folder):
    policy = load_policy(folder / "p.rpl")
    assert policy.decide({"seller": "big, shop", "category": "drone"}).outputs_json() == {"fee": "1.00"}
    assert policy.decide({"seller": "acme", "category": "camera"}).outputs_json() == {"fee": "2.50"}
    assert policy.decide({"seller": "acme", "category": "drone"}).outputs_json() == {"fee": "0.00"}  # otherwise


def test_a_bad_cell_is_reported_at_its_line_and_column_in_the_file(folder, snapshot):
    found = problems(folder, GOOD + "cheap,camera,1.0x,7\nacme,camera,1.00,3\nnew,tripod,1.00,3\n")
    assert [p.splitlines()[0] for p in found] == [
        "DIR/sellers.csv:4:14: error[RPL071]: a value of table `seller_fee` must be an amount of money, but this is `1.0x`",
        "DIR/sellers.csv:5:1: error[RPL072]: table `seller_fee` has two rows for acme, camera",
        "DIR/sellers.csv:6:5: error[RPL071]: `tripod` is not a Category value"]
    assert "\n\n".join(found) == snapshot


def test_a_row_with_a_missing_cell(folder):
    (found,) = problems(folder, GOOD + "cheap,camera,1.00\n")
    assert found.startswith("DIR/sellers.csv:4:1: error[RPL071]: this row has 3 cells, but table `seller_fee` has 4 columns")


def test_a_header_that_does_not_name_the_columns(folder):
    (found,) = problems(folder, "seller,category,fees,window\n")
    assert found.startswith("DIR/sellers.csv:1:17: error[RPL076]: this column is `fees`, but table `seller_fee` names it `fee`")


def test_a_missing_file_is_reported_at_the_table(folder):
    (folder / "sellers.csv").unlink()
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl")
    (d,) = error.value.diagnostics
    assert (d.code, d.span.line, d.span.text) == ("RPL076", 9, '"sellers.csv"')
    assert d.hint == "the path is relative to the policy's file"


def test_the_cache_reads_an_edited_file_again(folder, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("RPL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    name = str(folder / "p.rpl")
    request = {"seller": "acme", "category": "camera"}
    first = CompiledPolicy(compile_policy_cached(POLICY, name))
    assert first.decide(request).outputs_json() == {"fee": "2.50"}
    assert cache.load(POLICY, name) is not None  # stored, and the file is unchanged
    (folder / "sellers.csv").write_text(GOOD.replace("2.50", "3.75"))
    assert cache.load(POLICY, name) is None
    assert CompiledPolicy(compile_policy_cached(POLICY, name)).decide(request).outputs_json() == {"fee": "3.75"}


def test_a_file_the_csv_module_cannot_read_is_a_diagnostic(folder):
    (found,) = problems(folder, GOOD + "x," + "y" * 200_000 + ",1.00,3\n")
    assert "error[RPL076]: cannot read the table's file `sellers.csv`: field larger than field limit" in found


def test_a_file_that_is_not_utf8(folder):
    (folder / "sellers.csv").write_bytes(b"seller,category,fee,window\n\xff\xfe,camera,1.00,3\n")
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl")
    assert [d.message for d in error.value.diagnostics] == [
        "cannot read the table's file `sellers.csv`: it is not UTF-8 text"]


@pytest.mark.parametrize("path", ["/etc/passwd", "../sellers.csv", "notes.txt", "C:/x.csv", "a//b.csv"])
def test_only_a_csv_file_beside_the_policy_is_read(folder, path):
    (folder / "p.rpl").write_text(POLICY.replace('"sellers.csv"', f'"{path}"'))
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl")
    (d,) = error.value.diagnostics
    assert (d.code, d.message) == ("RPL076", f"`{path}` is not a CSV file beside the policy")


def test_a_file_in_a_folder_below_the_policy(folder):
    (folder / "tables").mkdir()
    (folder / "tables" / "sellers.csv").write_text(GOOD)
    (folder / "p.rpl").write_text(POLICY.replace('"sellers.csv"', '"tables/sellers.csv"'))
    assert load_policy(folder / "p.rpl").decide({"seller": "acme", "category": "camera"}).outputs_json() == {"fee": "2.50"}


def test_a_cell_beyond_the_limits_a_policy_is_held_to(folder):
    found = problems(folder, GOOD + "a,camera,12345678901234567.00,3\nb,drone,1.00,99999\n")
    assert [f.splitlines()[0] for f in found] == [
        "DIR/sellers.csv:4:10: error[RPL094]: `12345678901234567.00` is too large: a number may have at most "
        "15 digits before the point",
        "DIR/sellers.csv:5:14: error[RPL094]: `99999 days` is more than 36,500 days"]


def test_windows_line_ends_and_a_quoted_cell_keep_the_places_right(folder):
    text = GOOD.replace("\n", "\r\n") + '"bad\r\nseller",camera,x,3\r\n'
    (found,) = problems(folder, text)
    assert found.startswith("DIR/sellers.csv:5:16: error[RPL071]: a value of table `seller_fee` must be an amount")


def test_a_link_to_a_file_outside_the_policys_folder_is_not_read(folder, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.csv"
    elsewhere.write_text(GOOD)
    (folder / "sellers.csv").unlink()
    (folder / "sellers.csv").symlink_to(elsewhere)
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl", cache=False)
    (problem,) = error.value.diagnostics
    assert problem.code == "RPL076" and "a link to a place outside the policy's folder" in problem.message


def test_a_link_inside_the_folder_is_read(folder):
    (folder / "tables").mkdir()
    (folder / "sellers.csv").rename(folder / "tables" / "sellers.csv")
    (folder / "sellers.csv").symlink_to(folder / "tables" / "sellers.csv")
    policy = load_policy(folder / "p.rpl", cache=False)
    assert policy.decide({"seller": "acme", "category": "camera"}).outputs_json() == {"fee": "2.50"}


def test_a_named_pipe_is_refused_not_waited_on(folder):
    import os

    (folder / "sellers.csv").unlink()
    os.mkfifo(folder / "sellers.csv")  # reading it would wait for a writer forever
    with pytest.raises(PolicyError) as error:
        load_policy(folder / "p.rpl", cache=False)
    assert "not a file" in error.value.diagnostics[0].message
