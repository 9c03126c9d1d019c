"""An amount in Chinese capitals (人民币大写), in Python and as a spreadsheet formula that agree.

The rules are those for writing amounts on bills (中国人民银行《支付结算办法》附件：正确填写票据和结算
凭证的基本规定), where the rules leave a choice the simpler form is taken:

* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a group of four, 万 and 亿 after a group, 元 角 分;
  拾 keeps its 壹 (10 is 壹拾元整);
* zeros between non-zero digits are written as one 零, also across 万 and 亿 (100,010,000 is
  壹亿零壹万元整); zeros at the end of the yuan are not written (80,000 is 捌万元整);
* 整 follows an amount that ends in 元; nothing follows 角 or 分;
* 角 zero and 分 not: 元零…分 (10,000,000.07 is 壹仟万元零柒分); an amount below one yuan has no 元
  (0.50 is 伍角); zero is 零元整.

The formula uses only TEXT, ROUND, MID, LEFT, VALUE, IF and AND, which Excel and LibreOffice both
evaluate (NUMBERSTRING is LibreOffice's only, and Excel's ``[DBNum2]`` format LibreOffice ignores).
It reads the amount as 14 digits of cents, ``TEXT(ROUND(x*100,0),"00000000000000")``: amounts up
to 999,999,999,999.99 yuan; a larger or negative one shows a dash.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("仟", "佰", "拾", "")  # within a group of four digits
GROUPS = ("亿", "万", "元")  # after the 1st, 2nd and 3rd group of the 12 yuan digits
LIMIT = Decimal("1000000000000")  # 14 digits of cents
WIDTH = 14
TOO_LARGE = "—"


def upper(amount: Decimal | int | float | str) -> str:
    """人民币大写 of an amount in yuan, rounded half up to the cent."""
    cents = Decimal(str(amount)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if cents < 0 or cents >= LIMIT:
        return TOO_LARGE
    s = format(int(cents * 100), f"0{WIDTH}d")
    if s == "0" * WIDTH:
        return "零元整"
    out = []
    for i in range(12):
        d = s[i]
        if d != "0":
            if i > 0 and s[i - 1] == "0" and s[:i] != "0" * i:
                out.append("零")
            out.append(DIGITS[int(d)] + UNITS[i % 4])
        if i % 4 == 3 and (s[i - 3 : i + 1] != "0000" if i < 11 else s[:12] != "0" * 12):
            out.append(GROUPS[i // 4])
    jiao, fen = s[12], s[13]
    if jiao != "0":
        out.append(DIGITS[int(jiao)] + "角")
    elif fen != "0" and s[:12] != "0" * 12:
        out.append("零")
    if fen != "0":
        out.append(DIGITS[int(fen)] + "分")
    if jiao == "0" and fen == "0":
        out.append("整")
    return "".join(out)


def formula(ref: str) -> str:
    """The same as a formula body (no leading ``=``) over the cell or name ``ref``."""
    s = f'TEXT(ROUND({ref}*100,0),"{"0" * WIDTH}")'

    def digit(i: int) -> str:  # the i-th character (1-based) of s in capitals
        return f'MID("{DIGITS}",VALUE(MID({s},{i},1))+1,1)'

    def zeros(n: int) -> str:
        return '"' + "0" * n + '"'

    parts = []
    for i in range(1, 13):
        term = digit(i) + (f'&"{UNITS[(i - 1) % 4]}"' if UNITS[(i - 1) % 4] else "")
        if i > 1:
            # one 零 for a run of zeros that follows a non-zero digit
            term = f'IF(AND(MID({s},{i - 1},1)="0",LEFT({s},{i - 1})<>{zeros(i - 1)}),"零","")&' + term
        parts.append(f'IF(MID({s},{i},1)="0","",{term})')
        if i % 4 == 0:
            group = f"MID({s},{i - 3},4)<>{zeros(4)}" if i < 12 else f"LEFT({s},12)<>{zeros(12)}"
            parts.append(f'IF({group},"{GROUPS[i // 4 - 1]}","")')
    jiao, fen, whole = f"MID({s},13,1)", f"MID({s},14,1)", f"LEFT({s},12)<>{zeros(12)}"
    parts.append(f'IF({jiao}<>"0",{digit(13)}&"角",IF(AND({fen}<>"0",{whole}),"零",""))')
    parts.append(f'IF({fen}<>"0",{digit(14)}&"分","")')
    parts.append(f'IF(AND({jiao}="0",{fen}="0"),"整","")')
    body = "&".join(parts)
    return f'IF(OR({ref}<0,{ref}>={LIMIT}),"{TOO_LARGE}",IF(ROUND({ref}*100,0)=0,"零元整",{body}))'
