from hotline.triage.text import segment, split_tokens


def test_segment_drops_punctuation_and_stop_words() -> None:
    words = segment("我们小区的自来水，已经停了三天！")
    assert "，" not in words and "！" not in words
    assert "的" not in words and "我们" not in words
    assert "自来水" in words


def test_numbers_fold_and_place_codes_drop() -> None:
    assert split_tokens("A1 区 2019 年 3号楼 停水 3 天") == ["区", "年", "0号楼", "停水", "天"]


def test_full_width_and_ideographic_spaces_are_normalised() -> None:
    assert split_tokens("ＡＢＣ\u3000停水\u3000\u3000噪音") == ["abc", "停水", "噪音"]


def test_raw_and_segmented_forms_of_a_sentence_agree_on_content_words() -> None:
    raw = segment("小区楼下餐馆油烟扰民")
    pre = split_tokens("小区 楼下 餐馆 油烟 扰民")
    assert "".join(raw) == "".join(pre)
