"""The apps build on each other in one direction (config.layers.LAYERS): a domain module that
imports an app above it fails here, so the graph stays free of cycles."""

from pathlib import Path

from config import layers

ROOT = Path(__file__).resolve().parents[2]


def test_no_domain_module_imports_an_app_above_it():
    imports = layers.app_imports(ROOT)

    assert [str(each) for each in layers.upward(imports)] == []
    assert layers.cycles(imports) == []


def test_an_upward_import_inside_a_function_is_caught(tmp_path):
    for app in layers.LAYERS:
        (tmp_path / app).mkdir()
    (tmp_path / "marketplace" / "services.py").write_text(
        "from accounts.models import User\n\n\ndef update():\n    from sellers.services import on_price_change\n"
    )
    (tmp_path / "sellers" / "selectors.py").write_text("from marketplace import selectors\n")
    (tmp_path / "sellers" / "schema.py").write_text("from live import schema\n")  # composing: allowed

    imports = layers.app_imports(tmp_path)

    assert [str(each) for each in layers.upward(imports)] == ["marketplace/services.py:5: marketplace imports sellers"]
    assert layers.cycles(imports) == [("marketplace", "sellers", "marketplace")]
