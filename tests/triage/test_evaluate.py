import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.triage.evaluate import main
from tests.triage.test_classifier import toy_corpus

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"macro_f1", "accuracy", "n_test", "train_seconds", "ms_per_message"}


def write_csv(path: Path, column: str, texts: list[str], labels: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column, "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def test_cli_trains_on_tokens_and_tests_on_raw_text(tmp_path: Path) -> None:
    import jieba

    texts, labels = toy_corpus(30)
    train = write_csv(tmp_path / "train.csv", "tokens", [" ".join(jieba.lcut(t)) for t in texts], labels)
    test_texts, test_labels = toy_corpus(8, seed=5)
    test = write_csv(tmp_path / "test.csv", "text", test_texts, test_labels)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline.triage.evaluate",
            "--train",
            str(train),
            "--test",
            str(test),
            "--save",
            str(tmp_path / "model.pkl"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert result["n_test"] == len(test_texts)
    assert result["macro_f1"] >= 0.9
    assert result["ms_per_message"] > 0
    assert (tmp_path / "model.pkl").exists()


def test_cli_cross_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    texts, labels = toy_corpus(20)
    train = write_csv(tmp_path / "train.csv", "text", texts, labels)
    assert main(["--train", str(train), "--cv", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result.keys() >= KEYS
    assert len(result["macro_f1_folds"]) == 3
    assert result["macro_f1"] >= 0.9


def test_cli_rejects_a_csv_without_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text\n停水\n", encoding="utf-8")
    assert main(["--train", str(bad), "--cv", "2"]) == 2
    assert "label" in capsys.readouterr().err


def test_cli_needs_test_or_cv(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--train", str(tmp_path / "x.csv")])
