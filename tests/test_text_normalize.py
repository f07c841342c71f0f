"""Number, date, unit and acronym normalisation."""

from __future__ import annotations

import pytest

from studio.text.normalize import normalize, read_digits, read_integer, read_number


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [("0", "零"), ("7", "七"), ("10", "十"), ("12", "十二"), ("20", "二十"), ("101", "一百零一"),
     ("110", "一百一十"), ("200", "两百"), ("256", "二百五十六"), ("1010", "一千零一十"), ("2000", "两千"),
     ("10000", "一万"), ("20000", "两万"), ("100010", "十万零一十"), ("1000000001", "十亿零一"),
     ("123456789", "一亿二千三百四十五万六千七百八十九"), ("1,234,567", "一百二十三万四千五百六十七")],
)  # fmt: skip
def test_read_integer(digits: str, spoken: str) -> None:
    assert read_integer(digits) == spoken


def test_read_number_and_digits() -> None:
    assert read_number("-3.05") == "负三点零五"
    assert read_number("2.5") == "二点五"
    assert read_digits("2024") == "二零二四"
    assert read_digits("110", yao=True) == "幺幺零"
    assert read_integer("1" * 20) == "一" * 20


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("今天是2024年3月5日", "今天是二零二四年三月五日"),
        ("2024-03-05开会", "二零二四年三月五日开会"),
        ("2024/3/5", "二零二四年三月五日"),
        ("2024.03.05", "二零二四年三月五日"),
        ("2024-03发布", "二零二四年三月发布"),
        ("10:30出发", "十点三十分出发"),
        ("10:05", "十点零五分"),
        ("2:00", "两点"),
        ("23:59:07", "二十三点五十九分零七秒"),
        ("比分3:2", "比分三比二"),
        ("涨了50%", "涨了百分之五十"),
        ("3.5%", "百分之三点五"),
        ("-2%", "负百分之二"),
        ("5‰", "千分之五"),
        ("气温-3.5度", "气温负三点五度"),
        ("-5℃", "零下五摄氏度"),
        ("30°C", "三十摄氏度"),
        ("电话13812345678", "电话幺三八幺二三四五六七八"),
        ("010-12345678", "零幺零 幺二三四五六七八"),
        ("拨打110", "拨打幺幺零"),
        ("验证码是123456", "验证码是幺二三四五六"),
        ("007号", "零零七号"),
        ("价格¥12.50", "价格十二点五元"),
        ("$5", "五美元"),
        ("€3.5万", "三点五万欧元"),
        ("3-5天", "三到五天"),
        ("10~20km", "十到二十公里"),
        ("版本1.2.3", "版本一点二点三"),
        ("1/2的人", "二分之一的人"),
        ("第3名", "第三名"),
        ("2个人", "两个人"),
        ("2月", "二月"),
        ("跑了5km", "跑了五公里"),
        ("重2kg", "重两公斤"),
        ("100m²", "一百平方米"),
        ("256GB", "二百五十六G"),
        ("1.5h", "一点五小时"),
        ("100W充电", "一百瓦充电"),
        ("5G网络", "五G网络"),
        ("MSE很低", "M S E很低"),
        ("AI和CEO", "A I和C E O"),
        ("用iPhone拍", "用iPhone拍"),
        ("１２３元", "一百二十三元"),
    ],
)
def test_normalize(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_acronyms_outside_chinese_text_are_left_alone() -> None:
    assert normalize("AI is here") == "AI is here"


def test_text_without_numbers_is_unchanged() -> None:
    text = "他在银行工作，每天都很忙。"
    assert normalize(text) == text


#: Letters, codes and numbers the way Chinese narrators read them (the table the readings issue asked for).
NARRATOR_TABLE = [
    ("L1 损失", "L one 损失"),
    ("L2 正则", "L two 正则"),
    ("用L1正则化", "用L one正则化"),
    ("GPT-4发布了", "G P T four发布了"),
    ("GPT-4o很快", "G P T four o很快"),
    ("3D打印", "三D打印"),
    ("5G网络", "五G网络"),
    ("3G网络", "三G网络"),
    ("4K电视", "四K电视"),
    ("iPhone 15很贵", "iPhone 十五很贵"),
    ("COVID-19疫情", "COVID nineteen疫情"),
    ("2024-2025年", "二零二四到二零二五年"),
    ("1/3的人", "三分之一的人"),
    ("比分3:2", "比分三比二"),
    ("3:0获胜", "三比零获胜"),
    ("¥9.9包邮", "九点九元包邮"),
    ("¥1.5万", "一点五万元"),
    ("90后", "九零后"),
    ("95后", "九五后"),
    ("00后", "零零后"),
    ("80后的父母", "八零后的父母"),
    ("No.1选手", "Number one选手"),
    ("他是NO.1", "他是Number one"),
    ("A4纸", "A四纸"),
    ("MP3播放器", "MP三播放器"),
    ("PM2.5超标", "PM二点五超标"),
    ("1080P视频", "一零八零P视频"),
    ("720p", "七二零P"),
    ("Qwen3模型", "Qwen three模型"),
    ("M2芯片", "M two芯片"),
    ("K8s集群", "K eight s集群"),
    ("RTX4090显卡", "R T X four zero nine zero显卡"),
    ("F1赛车", "F one赛车"),
    ("B2B平台", "B to B平台"),
    ("O2O模式", "O to O模式"),
    ("7×24小时", "七乘二十四小时"),
    ("1+1等于2", "一加一等于二"),
    ("10:30开会", "十点三十分开会"),
    ("2.5D游戏", "二点五D游戏"),
    ("Wi-Fi 6", "Wi-Fi 六"),
    ("Python 3.12", "Python 三点一二"),
    ("iOS 17更新", "iOS 十七更新"),
    ("Windows 11", "Windows 十一"),
    ("第3名", "第三名"),
    ("第1季度", "第一季度"),
    ("2个人", "两个人"),
    ("50%的概率", "百分之五十的概率"),
    ("-5℃", "零下五摄氏度"),
    ("100km", "一百公里"),
    ("3-5天", "三到五天"),
    ("2023年", "二零二三年"),
    ("2024年3月5日", "二零二四年三月五日"),
    ("电话13812345678", "电话幺三八幺二三四五六七八"),
    ("AI技术", "A I技术"),
    ("CPU占用", "C P U占用"),
    ("NASA宣布", "NASA宣布"),
    ("5.5寸屏幕", "五点五寸屏幕"),
    ("1,000元", "一千元"),
    ("0.5倍", "零点五倍"),
    ("20世纪80年代", "二十世纪八十年代"),
    ("双11", "双十一"),
    ("T恤和U盘", "T恤和U盘"),
    ("B站", "B站"),
]


@pytest.mark.parametrize(("text", "spoken"), NARRATOR_TABLE)
def test_narrator_readings(text: str, spoken: str) -> None:
    assert normalize(text) == spoken


def test_narrator_table_is_large() -> None:
    assert len(NARRATOR_TABLE) >= 60 and len({t for t, _ in NARRATOR_TABLE}) == len(NARRATOR_TABLE)
