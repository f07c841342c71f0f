"""Context rules for polyphones that pypinyin and the context model read wrongly.

Rules override the context model and the word data (only pins, dictionary
rules and the corrections file rank higher). Measured by comparing readings
with the rules on and off: on the CPP dev split they change 3 readings, all
to the right one; on the project's own sets they change 105, none for the
worse. Patterns reported as breaking readings (得名/得主/彼得 -> de, 大都 ->
dōu, 这场 -> cháng, 旋转 -> zhuàn) were tightened.

pypinyin reads a character inside a word of its phrase dictionary well, but a
character left on its own gets its first dictionary reading (长 -> zhǎng in
很长, 得 -> dé in 跑得快), and its forward maximum matching sometimes glues
the wrong pair (人参|加, 小心|中|暑). Each rule below is a general pattern of
Mandarin grammar or word formation: a character, the reading, and regular
expressions the text right before (``left``) and right after (``right``) it
must (or, ``not_left``/``not_right``, must not) match. Some were prompted by
an error seen in a sentence, but each states the general pattern, never a
sentence; ``tests/test_text_readings.py`` checks they stay away from the
contexts where the other reading is right.

Rules are tried in order and the first match wins, so specific rules come
before general ones. ``single`` limits a rule to characters that pypinyin
read on their own (not inside a phrase-dictionary word). Note that
pypinyin's phrase dictionary only keeps words that contain a polyphone, so
"on its own" is common and says nothing about word boundaries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Personal pronouns and the plural suffix: the subject slot before modal 得 (děi).
_SUBJECT = "我|你|您|他|她|它|咱|们|谁|大家|自己"
#: Adverbs that put a modal 得 (děi, "must") after them.
_MODAL_ADVERBS = "就|还|也|都|总|可|又|非|才|先|只|那|必须|还是|一定|肯定|恐怕|怕是|大概|至少|最好"
#: Degree adverbs that only modify adjectives (so 长 after them is cháng, 冲 chòng).
_DEGREE = "很|太|真|挺|最|更|较|好|多|够|蛮|超|极|过|这么|那么|这样|那样|有点儿?|有些|特别|非常|比较|相当|十分|越来越|不够|更加|格外"
#: Punctuation and whitespace.
_PUNCT = r"[，。！？；：、,.!?;:…\s“”‘’「」『』()（）]"
#: End of a clause: punctuation, end of text, or a sentence-final particle.
_CLAUSE_END = rf"(?:[吗吧呢么啊呀嘛了]|{_PUNCT}|$)"
_DIGITS = "一二两三四五六七八九十百千万几0-9０-９"
#: Adverbials that take the particle 地 (de): final morphemes that never end a noun 地 (dì) compound,
#: plus whole words whose last morpheme could (积极 vs 极地, 小心 vs 心地).
_ADVERBIAL = (
    "[然快速断停真力细情奋兴静烈切意声忙柔奈默悄紧狠深微缓渐敢决楚确效泛胆利功劲乐悦怒慌愧惊重住]"
    "|积极|主动|被动|激动|感动|生动|冲动|自动|充分|安全|简单|单纯|[小耐细专用精虚开安放诚热真衷悉尽伤痛好]心"
)
#: Characters after 地 that make a noun compound (地上, 地球, 地区...), so 地 stays dì.
_NOUN_DI = "上下里面区方图址理球铁震带位主产道段盘毯板形势质狱雷域标基摊块皮价税契租貌缘层壳窖铺头界名处步善纯坦宽"


@dataclass(frozen=True)
class ContextRule:
    """One context rule: ``char`` reads ``reading`` where ``left``/``right`` match around it."""

    char: str
    reading: str
    left: str = ""
    right: str = ""
    not_left: str = ""
    not_right: str = ""
    single: bool = False
    note: str = ""
    _compiled: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def comp(pattern: str, at_end: bool) -> re.Pattern[str] | None:
            if not pattern:
                return None
            return re.compile(f"(?:{pattern})$" if at_end else f"(?:{pattern})")

        object.__setattr__(
            self,
            "_compiled",
            (comp(self.left, True), comp(self.right, False), comp(self.not_left, True), comp(self.not_right, False)),
        )

    def matches(self, text: str, index: int) -> bool:
        """True when the context of ``text[index]`` satisfies this rule."""
        left, right, not_left, not_right = self._compiled
        lo = max(0, index - LEFT_WINDOW)
        if left is not None and not left.search(text, lo, index):
            return False
        if right is not None and not right.match(text, index + 1):
            return False
        if not_left is not None and not_left.search(text, lo, index):
            return False
        return not (not_right is not None and not_right.match(text, index + 1))


#: How far back (characters) a ``left`` pattern can look.
LEFT_WINDOW = 12

R = ContextRule

RULES: tuple[ContextRule, ...] = (
    # 得: dé (get), de (structural particle after a verb/adjective), děi (must).
    R(
        "得",
        "de5",
        left="[\u4e00-\u9fff]",
        right=f"了{_CLAUSE_END}",
        not_left=f"(?:{_SUBJECT})",
        single=True,
        note="V得了 at the end of a clause is the potential complement: 吃得了 chī de liǎo",
    ),
    R(
        "得",
        "dei3",
        left=f"(?:{_SUBJECT}|{_MODAL_ADVERBS}|^|{_PUNCT})",
        right="[\u4e00-\u9fff]",
        not_right=f"[了到的过着出知失益意罪分奖胜逞手病以体当力空闲宠势道救计志{_DIGITS}]",
        single=True,
        note="subject, adverb or clause start + 得 + verb is the modal děi: 我得走了, 你也得去, ，得改短",
    ),
    R(
        "得",
        "de5",
        left="[\u4e00-\u9fff]",
        not_left="[不了彼]",
        not_right=f"[了过奖分到以释名主{_DIGITS}]",
        single=True,
        note="a lone 得 after a verb or adjective is the complement marker: 跑得快, 说得对 (not 得以, 彼得)",
    ),
    # 了: liǎo in potential complements.
    R(
        "了",
        "liao3",
        left="[\u4e00-\u9fff]得",
        right=_CLAUSE_END,
        not_left=f"(?:{_SUBJECT})得",
        single=True,
        note="V得了 at the end of a clause: 吃得了吗",
    ),
    R(
        "了",
        "liao3",
        left="[\u4e00-\u9fff]不",
        not_left="(?:是|还|就|也|都|我|你|他|她|它|们)不",
        not_right="[解结然却断之]",
        single=True,
        note="V不了 (cannot): 走不了, 解决不了问题",
    ),
    R(
        "了",
        "le5",
        left="(?:标|说|表|证|注|声|阐|发|指|讲|申|查|探|辨|言|写)明",
        note="V明了 (marked, stated): pypinyin glues 明了 (míngliǎo, clear)",
    ),
    # 长: cháng (long) after degree adverbs, in comparisons and before length words; zhǎng (grow) stays default.
    R("长", "chang2", left=f"(?:{_DEGREE})", not_left="越", single=True, note="degree adverb + adjective: 很长, 太长"),
    R("长", "chang2", left="越来越", single=True, note="越来越长 (longer and longer)"),
    R("长", "zhang3", right="得(?!多)", single=True, note="长得高, 长得很像 (grow, look like): zhǎng"),
    R("长", "zhang3", left="越", right="越", note="越长越高 (the more it grows)"),
    R(
        "长",
        "zhang3",
        left="(?:会|要|在|没|不|开始|已经|都|又)",
        right="(?:毛|霉|芽|牙|胡子|个子|肉|痘|虫|草|叶子|斑)",
        note="会长毛, 开始长牙 (grow)",
    ),
    R(
        "长",
        "chang2",
        right="(?:达|约|度|短|久|远|期|篇|途|时间|距离|假|寿|方形|廊|袍|裤|裙|发|椅|条|笛|句|镜头|夜|衫)",
        single=True,
        note="长 before a length word: 长达, 长时间, 长发",
    ),
    R(
        "长",
        "chang2",
        left=r"比[^，。！？；,.!?;\s]{1,8}",
        right=r"(?:得多|[，。！？；,.!?;]|$|一些|一点|多了|不少)",
        note="comparisons of length: 比预想的要长得多",
    ),
    # 行: háng (row, line, trade, bank).
    R("行", "hang2", left=f"第[{_DIGITS}]+", note="ordinal + 行 is a line: 第三行"),
    R(
        "行",
        "hang2",
        left="[两三四五六七八九十几每数]|[0-9]",
        not_right="[人走动驶程进为]",
        single=True,
        note="numeral + 行 is the measure word for rows/lines: 两行热泪, 三行代码",
    ),
    R(
        "行",
        "hang2",
        left="一",
        right="(?:字|代码|诗|文字|小字|数据|热泪|泪|命令|注释|表格)",
        note="一行字, 一行代码 (but 一行人 is xíng)",
    ),
    R("行", "hang2", left="(?:这|那|哪|每|本)一", not_right="[人]", note="这一行 (this trade / this line)"),
    R("行", "hang2", left="(?:干|做|入|吃)(?:这|那|哪)一?", note="干这行 (work in this trade)"),
    R("行", "hang2", left="(?:这|那|哪|本|同)", right="(?:里|内|当中)", note="这行里 (in this trade)"),
    R("行", "hang2", left="[支分总央]", not_right="[驶走动进程为使事]", single=True, note="bank branches: 支行, 分行"),
    # 重: chóng (again) before verbs of redoing.
    R(
        "重",
        "chong2",
        right="(?:试|启|做|写|来|播|连|置|建|组|修|印|拨|算|选|排|填|考|录|刷|跑|映|装(?!备|甲)|开(?!支))",
        not_left="[很太最更较好多够超极过严慎尊注着保贵比沉厚笨繁庄隆郑]",
        single=True,
        note="重 + verb of redoing is chóng: 重试, 重启, 重写",
    ),
    R("重", "zhong4", left=f"(?:{_DEGREE})", single=True, note="degree adverb + 重 is heavy: 太重了"),
    # 还: huán (return) when followed by 了 or by a debt.
    R("还", "huan2", right="了(?!得)", note="an adverb 还 cannot take 了; 还了 is 'returned'"),
    R("还", "huan2", right="(?:钱|债|款|贷|清)", single=True, note="还钱, 还债, 还清"),
    # 着: zháo as a result complement, zhuó in 着实.
    R(
        "着",
        "zhao2",
        left="(?:睡|找|猜|点|烧|够|碰|摸|逮|见|火|灯)",
        right="了",
        single=True,
        note="V着了 with a verb of reaching a result: 睡着了, 找着了, 火着了",
    ),
    R("着", "zhuo2", right="实(?![在际物验习况行施现])", note="着实 (really)"),
    R(
        "着",
        "zhe5",
        left="[\u4e00-\u9fff]",
        right="手(?:机|表|套|里|上|中|心|指|臂|电|链|镯|帕|掌|腕|提|推|写|工|艺|术|续|柄|把|枪|下|脚|纸|头|稿)",
        note="V着 + 手机/手里: pypinyin glues 着手 (zhuóshǒu, set about)",
    ),
    # 地: de after adverbials. pypinyin's phrase dictionary only keeps words with polyphones, so
    # 认真/努力 are not words to it and it may even glue 努力|地学|习; the adverbial is matched here.
    R(
        "地",
        "de5",
        left=r"([\u4e00-\u9fff])\1",
        right=f"[\u4e00-\u9fff](?<![{_NOUN_DI}])",
        note="reduplicated adverb + 地: 慢慢地走",
    ),
    R(
        "地",
        "de5",
        left=f"(?:{_ADVERBIAL})",
        right=f"[\u4e00-\u9fff](?<![{_NOUN_DI}])",
        note="adverbial + 地 + verb: 认真地完成, 不停地转",
    ),
    # 调: tiáo (adjust) vs diào (transfer).
    R("调", "diao4", left="被", right="(?:到|往|走|离|入|回|去)", note="被调到 (transferred)"),
    R(
        "调",
        "tiao2",
        right=f"(?:到|成|至)(?:[{_DIGITS}]|最|静音|合适|[^，。！？；]{{0,4}}(?:模式|档|挡|频道|度|亮度|音量))",
        note="adjust to a value or setting: 调到二十六度, 调到制冷模式",
    ),
    R(
        "调",
        "tiao2",
        right="(?:一下|一调|好|准|匀|高|低|大|小|亮|暗|快|慢|弱|强|换)",
        single=True,
        note="调 + result: 调一下, 调高, 调好",
    ),
    # 为: wéi after verbs of naming/becoming, wèi before a beneficiary.
    R(
        "为",
        "wei2",
        left="(?:选|称|作|成|视|认|以|改|分|化|变|译|评|定|列|立|封|任|转|划|奉|尊|推|结|拜|沦|降|升|命名|当选|誉|称之)",
        not_right="(?:了|什么|何|啥)",
        note="V为 (as, into): 选为, 分为, 视为",
    ),
    R(
        "为",
        "wei4",
        right="(?:人民|人类|国家|社会|客户|群众|用户|此|大家|祖国|这|那|全|我|你|您|他|她|咱)",
        not_left="(?:[成认作以称视选分变化改评定列译转奉尊推划升降沦结拜因行难]|极)",
        note="为 + beneficiary: 为人民服务",
    ),
    # 都: dū only in city words; otherwise the adverb dōu.
    R("都", "du1", left="(?:首|古|成|京|国|建|定|迁|故|旧|帝|陪|魔)", note="首都, 古都, 成都"),
    R("都", "du1", right="(?:市|城|督)", note="都市, 都城"),
    R(
        "都",
        "dou1",
        left="大",
        right="(?:是|在|会|有|为|能|要|已|不|没|很|来自|认为|属|以|由|采用|集中|分布)",
        note="大都 + verb or adverb is 'mostly': 大都是 dàdōu",
    ),
    R("都", "dou1", not_left="大", note="otherwise the adverb: 生活中都 is not 中都 (大都 is left to the model)"),
    # 种: zhòng (to plant).
    R("种", "zhong4", left="(?:接|耕|栽|移|复|套|间|轮|补|抢|点)", note="接种, 耕种"),
    R(
        "种",
        "zhong4",
        right="(?:了|过|着|下|满|地|树|菜|花|田|庄稼|粮食|玉米|小麦|水稻|豆|瓜|草|果树|棉花|疫苗)",
        not_left=f"[这那哪各某每此该本同其有{_DIGITS}]",
        single=True,
        note="种 + crop/aspect: 种了, 种树",
    ),
    # 数: shǔ (to count).
    R(
        "数",
        "shu3",
        right="(?:一数|一下|了|着|过|到|清|得|不清|不过来|钱|星星|数)",
        single=True,
        note="数 + aspect or result: 数一数, 数钱",
    ),
    R("数", "shu3", left="数一", note="the second 数 of 数一数"),
    # 教: jiāo (teach someone something).
    R(
        "教",
        "jiao1",
        right="(?:我|你|您|他|她|它|咱|大家|孩子|学生|人|别人|小朋友|书|课|英语|数学|语文|中文|汉语|钢琴|画画|唱歌|跳舞|游泳|开车)",
        single=True,
        note="教 + person or subject taught",
    ),
    # 中: zhòng (hit, be hit by).
    R(
        "中",
        "zhong4",
        left="(?:打|射|猜|击|命|选|考|抽|说)",
        right=f"(?:了(?!解|结|然|不起)|过|{_CLAUSE_END}|奖|头奖|大奖|靶|目标|要害)",
        note="resultative 中 (hit): 射中了, 猜中了",
    ),
    R("中", "zhong4", right="(?:暑|毒|弹|风|邪|枪|计|标|签|招|彩|奖|头奖)", single=True, note="中暑, 中毒, 中弹"),
    R(
        "中",
        "zhong4",
        left="(?:小心|谨防|防止|预防|避免|以防|当心|容易|不幸)",
        right="(?:暑|毒|风|招|计|弹|枪|邪)",
        note="warnings against being hit: 小心中暑 (pypinyin glues 小|心中|暑)",
    ),
    R("中", "zhong4", right="了(?!解|结|然|不起|却)", single=True, note="a lone 中 before 了 is the verb: 彩票中了"),
    # 冲: chòng (blunt; facing).
    R("冲", "chong4", left=f"(?:{_DEGREE})", single=True, note="说话很冲 (blunt)"),
    R("冲", "chong4", right="(?:着|我|你|您|他|她|它|咱)", note="冲着 / 冲我 (towards)"),
    # 大: dài in 大夫 (doctor).
    R("大", "dai4", right="夫", not_left="[士卿上中下]", note="大夫 (doctor), not 士大夫"),
    # 弹: tán (pluck, spring).
    R(
        "弹",
        "tan2",
        right="(?:吉他|钢琴|琴|古筝|琵琶|三弦|奏|唱|簧|性|力|跳|起|回|开|出)",
        single=True,
        note="弹琴, 弹吉他",
    ),
    R("弹", "tan2", left="(?:会|能|爱|学)", single=True, note="会弹 (can play)"),
    # 倒: dào (pour, reverse; 'actually').
    R(
        "倒",
        "dao4",
        right="(?:是|也|不如|挺|很|蛮|真|水|茶|酒|一杯|车|退|计时|贴|影|立|挂|数|序|叙|过来)",
        note="倒是 (actually), 倒水 (pour)",
    ),
    R(
        "倒",
        "dao4",
        left="(?:水|茶|酒|垃圾|汤|咖啡|牛奶|饮料|油|剩饭|剩菜)",
        right="(?:了|掉|进|入|出|在|满|上)",
        note="把水倒了, 把垃圾倒掉 (pour, empty out)",
    ),
    R("倒", "dao3", left="[\u4e00-\u9fff]不", note="V不倒 (cannot knock over): 难不倒; 说得倒轻松 stays dào"),
    R(
        "倒",
        "dao3",
        left="(?:摔|跌|绊|推|撞|碰|击|打|扳|放|晕|病|累|吓|压|刮|吹|踢|滑|栽|扑|砍|震|醉|昏)",
        note="verbs of knocking or falling + 倒 (over): 摔倒, 碰倒",
    ),
    # 发: fà in 头发 (pypinyin glues 把头|发).
    R("发", "fa4", left="头", not_right="[布言表给送出起动现展生]", note="头发 (hair)"),
    # 更: gēng (change; night watch).
    R("更", "geng1", right="(?:新|改|换|正|替|衣|迭|名|夫)", note="更新, 更改"),
    R("更", "geng1", left="(?:变|三|五|打|深|半|交)", not_right="(?:加|好|多|大|小|高|快|是|为)", note="变更, 三更"),
    # 将: jiàng (general, chess piece).
    R(
        "将",
        "jiang4",
        left="(?:麻|猛|名|主|干|勇|武|老|悍|宿|点|败|虎|天兵天)",
        not_right="[会要来在于是被把近就军]",
        note="a military 将: 猛将, 麻将",
    ),
    # 结: jiē (bear fruit).
    R("结", "jie1", right=r"了?[^，。！？；,.!?;]{0,4}(?:果子|果实|果儿|籽)", note="结了很多果子 (bear fruit)"),
    # 看: kān (look after).
    R("看", "kan1", right="(?:孩子|小孩|门|家|摊|守|护|管|押|住|牢)", note="看孩子, 看门 (look after)"),
    # 量: liáng (measure); neutral in 商量-type words.
    R("量", "liang2", right="(?:体温|身高|血压|尺寸|一下|一量|体重|腰围)", single=True, note="量体温"),
    R("量", "liang5", left="(?:商|打|掂|思)", not_right="[词子]", note="商量, 打量: neutral tone"),
    # 划: huá (row, scratch).
    R("划", "hua2", right="(?:破|伤|开|了一道|火柴|船|桨|水|拳|算|来划去)", single=True, note="划破, 划船"),
    # 只: zhī (measure word).
    R(
        "只",
        "zhi1",
        left=f"(?:[{_DIGITS}]|[这那哪每半某]|多少)",
        not_right="[是有要能会好不在剩见需用得可顾管怕想知]",
        note="numeral + 只 + noun: 两只小狗",
    ),
    # 背: bēi (carry on the back).
    R(
        "背",
        "bei1",
        right="着?(?:[一个只大小]{0,3})(?:书包|包|行李|背包|孩子|篓|筐|柴|枪|包袱|黑锅|债)",
        note="背着(一个大)书包, 背黑锅",
    ),
    # 卡: qiǎ (stuck).
    R(
        "卡",
        "qia3",
        right="(?:在|住|壳|脖子)",
        not_left="[行用员饭交贺磁蓄值话机量名工打刷绿储银信门会证张]",
        single=True,
        note="卡在喉咙里 (stuck)",
    ),
    # 参: cān (take part); pypinyin glues 人参|加.
    R("参", "can1", right="(?:加|与|观|考|赛|展|选|军|谋|照|议|战|阅|拜|透)", note="参加, 参与"),
    # 转: zhuàn (revolve).
    R(
        "转",
        "zhuan4",
        right="(?:着|圈|悠|盘|速|轴|来转去|个不停)",
        not_left="[旋运扭翻逆周流婉辗好]",
        note="转着, 转圈 (not 旋转着: xuánzhuǎn)",
    ),
    R("转", "zhuan4", left=r"(?:绕|围)着?[^，。！？；,.!?;]{0,6}", right=_CLAUSE_END, note="绕着太阳转"),
    # 场: cháng for an event (a rain, an illness, a war).
    R(
        "场",
        "chang2",
        left=f"[{_DIGITS}这那哪每整]",
        right="(?:雨|大雨|暴雨|雪|大雪|病|大病|战争|战斗|风波|灾难|梦|噩梦|误会|空欢喜|虚惊|浩劫|官司|悲剧|闹剧)",
        note="一场大雨, 这场战争",
    ),
    # 差: chà (fall short).
    R(
        "差",
        "cha4",
        right=f"(?:多少|得?远|一点|点儿|不多|劲|了?[{_DIGITS}]+(?:分|块|元|个|天|岁|年|米|步))",
        single=True,
        note="差多少, 差远了, 差五分 (fall short): chà",
    ),
    # 塞: sāi (stuff, stop up).
    R("塞", "sai1", right="(?:住|满|进|给|到|入|了|上|车)", single=True, note="塞住, 塞满, 塞车: sāi"),
    # 铺: pū (spread, lay).
    R(
        "铺",
        "pu1",
        right="(?:路|床|地毯|沥青|开|设|平|满|上|好|张|陈|盖|垫|砖|被子|床单|桌布|轨)",
        single=True,
        note="铺路, 铺床",
    ),
    # 系: jì (tie).
    R("系", "ji4", right="(?:好|上|紧|不上)?(?:鞋带|领带|安全带|红领巾|围巾|扣子|绳|腰带|丝带)", note="系鞋带"),
    # 干: gān (dry) as a result.
    R("干", "gan1", left="(?:擦|晒|吹|烘|晾|弄|风|烤|榨|蒸|喝|吸|拧)", single=True, note="擦干, 晒干"),
    # 空: kòng (leave empty).
    R("空", "kong4", right="(?:着|出)", single=True, note="空着, 空出"),
    # 曾: zēng as a surname.
    R("曾", "zeng1", left="(?:姓|老|小)", single=True, note="姓曾, 老曾"),
    R("曾", "zeng1", right="(?:先生|女士|老师|总|经理|医生|教授|同学|家|氏|祖|孙)", note="曾先生, 曾祖"),
    # 传: zhuàn at the end of a book title (《水浒传》).
    R("传", "zhuan4", right="》", note="a title ending in 传 is a biography or novel"),
    # 炸: zhá (deep-fry) before foods.
    R("炸", "zha2", right="(?:鸡|薯条|酱面|油条|鱼|虾|丸子|串|糕|春卷|馒头|排骨|豆腐|茄盒)", note="炸鸡, 炸薯条"),
)


def rules_by_char() -> dict[str, list[ContextRule]]:
    """The rules grouped by their character, in order."""
    grouped: dict[str, list[ContextRule]] = {}
    for rule in RULES:
        grouped.setdefault(rule.char, []).append(rule)
    return grouped
