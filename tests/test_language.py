"""The build tells the text's language from Unicode scripts and English function words, cheaply."""

from __future__ import annotations

import pandas as pd

from mgviz.encoder import DEFAULT_MODEL, MULTILINGUAL_MODEL, choose_model
from mgviz.language import detect, detect_dataset, language_of
from mgviz.schema import Dataset


def test_each_text_gets_the_language_of_its_script():
    assert language_of("我爱看电影，特别喜欢科幻片和动作片。") == "zh"
    assert language_of("東京でラーメンを食べました") == "ja"  # kanji with kana is Japanese
    assert language_of("서울에서 영화를 봤어요") == "ko"
    assert language_of("Война и мир") == "cyrillic"
    assert language_of("ألف ليلة وليلة") == "arabic"
    assert language_of("iPhone 手机壳 透明") == "zh"  # a Latin brand name in Chinese text
    assert language_of("2024 - 42 !!") is None  # no letters: no vote


def test_latin_text_is_english_unless_other_function_words_win():
    assert language_of("A story about the history of Rome and its people") == "en"
    assert language_of("Trail running shoes, size 42") == "en"  # no function words: English, as before
    assert language_of("Die Geschichte der Stadt und ihre Menschen") == "latin"
    assert language_of("Une histoire de la ville et de ses habitants") == "latin"
    assert language_of("La historia de la ciudad y su gente") == "latin"


def test_shares_and_the_choice_they_lead_to():
    report = detect(["the history of rome", "a starship and its crew", "星舰穿越银河系", "面条汤的菜谱", ""])
    assert report.shares == {"en": 0.5, "zh": 0.5} and report.n_texts == 4
    assert report.non_english == 0.5 and report.describe() == "English 50%, Chinese 50%"
    assert choose_model(report)[0] == MULTILINGUAL_MODEL
    assert choose_model(detect(["the history of rome"] * 19 + ["星舰"]))[0] == DEFAULT_MODEL  # 5 %: English
    assert choose_model(detect(["the history of rome"] * 9 + ["星舰"]))[0] == MULTILINGUAL_MODEL  # 10 %
    assert choose_model(detect([]))[0] == DEFAULT_MODEL and detect([]).describe() == "no text"


def test_a_data_set_is_judged_on_a_bounded_sample_of_items_users_and_reviews():
    n = 5000
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(n)], "title": ["the book of days"] * n,
                          "text": [""] * n, "categories": [[] for _ in range(n)]})  # fmt: skip
    users = pd.DataFrame({"user_id": ["u0", "u1"], "text": ["我爱看电影", ""]})
    inter = pd.DataFrame({"user_id": ["u0"] * n, "item_id": items["item_id"], "rating": 1.0,
                          "timestamp": float("nan"), "text": ["很好看"] * n})  # fmt: skip
    report = detect_dataset(Dataset(inter, items, users, []), n=100)
    assert report.n_texts == 100 + 1 + 100  # at most n per source, empty texts left out
    assert report.shares == {"en": 0.498, "zh": 0.502}
