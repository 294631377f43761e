"""Key facts for the CRUD-RAG questions, written by hand from each reference answer and its
source post; writes eval/crud/labels.jsonl. Re-run after editing the table below.

Each row of FACTS is the index of a question in questions.jsonl (file order) and either
  - a list of facts, each a list of acceptable variants (strict matching, see eval/score.py), or
  - a string: why the question is not kept (it names no event or subject and so cannot be asked
    of a corpus, it leans on a pronoun, its reference answer does not answer it, ...).
Gold paragraphs are the paragraphs of the answer-holding posts that contain a fact; a question keeps
its split; a new one takes its item's (eval/splits.py); `rejection_exclude` lists every post that holds all the
facts or the question's two rarest words (another report of the same event), so the rejection run
(the question asked without its sources) really has no answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

UNDERSPECIFIED = "underspecified: names no event or subject, so it cannot be asked of a corpus"
PRONOUN = "leans on a pronoun (该/这/她…) whose referent is in the reference answer, not the question"
WRONG = "the reference answer does not answer the question"
YESNO = "yes/no question: a key fact cannot be matched"

FACTS: dict[int, list[list[str]] | str] = {
    0: [["夏威夷州"]],
    1: [["黑龙江省交通投资集团", "黑龙江省交投集团"]],
    2: [["12月"]],
    3: [["非人类"]],
    4: [["内蒙古自治区第四医院"]],
    5: [["200余名", "200多名"]],
    6: [["优质丰富的内容"], ["喜闻乐见的形式"]],
    7: [["2023年7月1日", "7月1日"]],
    8: [["XQ-58A", "女武神"]],
    9: [["牵引力大"], ["排放低"], ["可靠性好"], ["安全性高"], ["操作便利"], ["成本低"]],
    10: [["公安部交通管理局"]],
    11: [["AAA"], ["AA+"]],
    12: [["稳健的货币政策"], ["流动性合理充裕"]],
    13: [["一揽子化债方案"]],
    14: [["2023年8月16日", "8月16日"]],
    15: [["京津冀晋鲁豫"]],
    16: [["鉴定专家"]],
    17: [["2023年9月4日", "9月4日"]],
    18: UNDERSPECIFIED,
    19: [["李丰"]],
    20: [["0.4%"]],
    21: UNDERSPECIFIED,
    22: WRONG,
    23: [["中俄", "中国和俄罗斯"]],
    24: [["14批次"]],
    25: [["导弹"]],
    26: PRONOUN,
    27: [["49.3%"]],
    28: [["王毅"]],
    29: [["密谋欺诈美国"], ["密谋妨碍官方程序"], ["妨碍及试图妨碍官方程序"], ["密谋侵犯他人权利"]],
    30: [["30个"]],
    31: [["负责任的态度"], ["安全有效的方式"]],
    32: [["李昌钰"]],
    33: [["丘成桐"]],
    34: [["王霜"]],
    35: [["美日韩", "美国、日本和韩国"]],
    36: [["亦创国际会展中心"]],
    37: [["贵州"]],
    38: [["3.45亿美元"]],
    39: UNDERSPECIFIED,
    40: WRONG,
    41: [["78个"]],
    42: [["泽连斯基"]],
    43: [["外交途径"]],
    44: [["美国"]],
    45: [["27人"]],
    46: "the reference answer (7.14) disagrees with its source, which says 升破7.15关口",
    47: PRONOUN,
    48: [["安全生产法执法检查"]],
    49: UNDERSPECIFIED,
    50: [["远离厂址"]],
    51: [["33891元"]],
    52: [["31个"]],
    53: [["4万亿元"]],
    54: [["网络歌曲"]],
    55: [["郑泽光"]],
    56: [["电力"]],
    57: UNDERSPECIFIED,
    58: [["保护保全海洋环境", "保护和保全海洋环境"]],
    59: [["重要信息报告发布机制"]],
    60: [["9天"]],
    61: [["20万吨"], ["化肥"]],
    62: [["青春心向党奋进新征程"]],
    63: "the same question as #11 (another item id)",
    64: [["59357亿元"]],
    65: [["政治局常委"], ["中央书记处书记"]],
    66: PRONOUN,
    67: [["中央政法委"]],
    68: PRONOUN,
    69: [["5.25%"]],
    70: [["150亿美元"]],
    71: [["18条"]],
    72: [["跨度最大"], ["海拔最高"], ["转体重量最大"]],
    73: [["商务部"]],
    74: [["刚察县"]],
    75: [["政策沟通"], ["设施联通"], ["贸易畅通"], ["资金融通"], ["民心相通"]],
    76: [["2023年9月10日", "9月10日"]],
    77: UNDERSPECIFIED,
    78: UNDERSPECIFIED,
    79: [["全球发展倡议"], ["全球安全倡议"], ["全球文明倡议"]],
    80: [["70174批次"]],
    81: [["6347人"]],
    82: [["20款"]],
    83: [["黑海海军基地"]],
    84: UNDERSPECIFIED,
    85: UNDERSPECIFIED,
    86: [["52.3%"]],
    87: [["辅警"]],
    88: UNDERSPECIFIED,
    89: UNDERSPECIFIED,
    90: [["侨联主席"]],
    91: [["电子码"]],
    92: [["食用农产品市场销售质量安全监督管理办法"]],
    93: [["中国"]],
    94: [["发展改革委"], ["工业和信息化部"], ["生态环境部"], ["应急管理部"], ["国家能源局"]],
    95: [["12月底"]],
    96: [["菲尼克斯"]],
    97: [["930个"]],
    98: UNDERSPECIFIED,
    99: [["中国境内"]],
    100: [["残疾人福利设施"]],
    101: [["科摩罗"], ["南非"], ["刚果"], ["埃及"], ["塞内加尔"], ["乌干达"], ["赞比亚"]],
    102: [["武昌区"]],
    103: [["蔚山"]],
    104: "the reference answer restates the question",
    105: [["32043亿美元"]],
    106: [["依法依规严肃处理"]],
    107: [["俄罗斯"]],
    108: [["协作机器人"], ["物流机器人"], ["特种机器人"]],
    109: [["2023年8月15日", "8月15日"]],
    110: [["等离子体物理研究所"]],
    111: [["佐治亚州"]],
    112: [["8月底"]],
    113: UNDERSPECIFIED,
    114: [["230元"]],
    115: [["全球金融市场"]],
    116: UNDERSPECIFIED,
    117: UNDERSPECIFIED,
    118: [["韩国超导低温学会"]],
    119: UNDERSPECIFIED,
    120: UNDERSPECIFIED,
    121: UNDERSPECIFIED,
    122: [["平稳回落"]],
    123: [["技术技能人才"]],
    124: UNDERSPECIFIED,
    125: PRONOUN,
    126: PRONOUN,
    127: UNDERSPECIFIED,
    128: [["刚性"], ["改善性住房需求"]],
    129: UNDERSPECIFIED,
    130: [["民权办公室"]],
    131: [["绝对领导"], ["备战打仗"], ["管党治党"]],
    132: [["发展改革委"]],
    133: [["丹穗"]],
    134: [["58.1%"]],
    135: [["70%"]],
    136: UNDERSPECIFIED,
    137: [["2023年9月"], ["2024年3月底"]],
    138: [["广珠铁路"], ["珠三角环线高速"], ["江门城镇"]],
    139: [["岸田文雄"], ["尹锡悦"]],
    140: [["6.7万个"]],
    141: [["15兆瓦"]],
    142: [["5000名"]],
    143: [["100公里"]],
    144: PRONOUN,
    145: [["历史文化"], ["现实国情"]],
    146: [["马萨卡医院"], ["基本戈医院"]],
    147: [["张睿"]],
    148: [["耿爽"]],
    149: [["东南部"]],
    150: [["60亿美元"]],
    151: [["警员"], ["联邦特工"]],
    152: [["美国"]],
    153: [["特种部队"], ["爆炸物"]],
    154: [["和平稳定"]],
    155: [["0.1%"]],
    156: [["下降"]],
    157: [["乌克兰"]],
    158: [["非洲"]],
    159: UNDERSPECIFIED,
    160: [["品牌营销"], ["电商"]],
    161: [["1000亿美元"]],
    162: [["贷后管理不到位"]],
    163: [["对话伙伴机制"]],
    164: [["杂技"]],
    165: UNDERSPECIFIED,
    166: [["多元化融资需求"]],
    167: UNDERSPECIFIED,
    168: [["涿州"], ["邢台"]],
    169: [
        ["广东省委宣传部"],
        ["广东省直属机关工作委员会"],
        ["广东省教育厅"],
        ["广东省文化和旅游厅"],
        ["广东省总工会"],
        ["共青团广东省委员会"],
        ["广东省妇女联合会"],
        ["广东省文学艺术界联合会"],
    ],
    170: [["新兴市场"], ["发展中大国"]],
    171: [["资金支持"]],
    172: UNDERSPECIFIED,
    173: [["55年"]],
    174: [["123.89亿元"]],
    175: [["4项"]],
    176: [["跨度最大"], ["海拔最高"], ["转体重量最大"]],
    177: [["准入"], ["内容审查"]],
    178: UNDERSPECIFIED,
    179: [["有关物质"]],
    180: [["祁生鹏"]],
    181: [["李全民"]],
    182: [["扎哈罗娃"]],
    183: [["严厉回应措施"]],
    184: [["赶人"]],
    185: [["1150万吨"]],
    186: [["赫尔佐格"]],
    187: [["每球得分制"], ["交换场区"]],
    188: PRONOUN,
    189: [["大冶康宏特钢"]],
    190: [["芬芳"]],
    191: "the reference answer restates the question",
    192: "the reference answer restates the question",
    193: [["公报"]],
    194: [["奥斯汀"]],
    195: [["缅方", "缅甸"]],
    196: WRONG,
    197: [["3.60%", "3.6%"]],
    198: UNDERSPECIFIED,
    199: [["导弹生产能力"]],
    200: UNDERSPECIFIED,
    201: [["水利部"]],
    202: [["恢复生产"]],
    203: [["16.8%"]],
    204: WRONG,
    205: [["基础研究"]],
    206: "the reference answer restates the question",
    207: UNDERSPECIFIED,
    208: [["塔甘罗格"]],
    209: [["手球进校园"]],
    210: [["阿德尔菲大学"]],
    211: UNDERSPECIFIED,
    212: [["130株"]],
    213: [["90280辆"]],
    214: [["九二共识"]],
    215: [["两个月"]],
    216: [["助力职场家庭促进母乳喂养"]],
    217: [["红领巾心向党"]],
    218: [["92%"]],
    219: [["3万辆"], ["5万辆"]],
    220: [["T3航站楼"]],
    221: WRONG,
    222: [["49.3%"]],
    223: [["最早研发高超音速武器的国家"]],
    224: [["国防参谋长委员会"]],
    225: UNDERSPECIFIED,
    226: [["3.8万亿元"]],
    227: [["磨万段"]],
    228: [["1800个"]],
    229: [["SOMATOM On.site"], ["ARTIS icono"]],
    230: [["南千岛群岛"]],
    231: UNDERSPECIFIED,
    232: [["警方"], ["消防"]],
    233: [["龙贸通"]],
    234: [["基本权利"]],
    235: [["泽连斯基"]],
    236: [["5.5公里"]],
    237: UNDERSPECIFIED,
    238: [["预防为主"], ["防治结合"], ["精准防控"], ["快速处置"]],
    239: UNDERSPECIFIED,
    240: UNDERSPECIFIED,
    241: [["200余件"]],
    242: [["投资业务"]],
    243: [["免于处罚"]],
    244: UNDERSPECIFIED,
    245: [["2.65%"], ["2.5%"]],
    246: [["退出西共体"]],
    247: UNDERSPECIFIED,
    248: [["分居协议"]],
    249: UNDERSPECIFIED,
    250: [["75分钟"]],
    251: UNDERSPECIFIED,
    252: [["泰国"]],
    253: [["西南地区"]],
    254: [["29.2%"]],
    255: [["奖补政策"]],
    256: [["证券交易经手费"]],
    257: [["300万元"]],
    258: [["株洲市一汽运"]],
    259: [["去美元化"]],
    260: UNDERSPECIFIED,
    261: [["汪文斌"]],
    262: [["小雨到中雨"]],
    263: [["汪文斌"]],
    264: PRONOUN,
    265: UNDERSPECIFIED,
    266: [["积极影响"]],
    267: [["26.2万吨"]],
    268: [["万家筑巢"]],
    269: PRONOUN,
    270: [["200公里"]],
    271: [["免除学杂费"], ["营养膳食补助"], ["计划生育家庭特别扶助"]],
    272: [["预备役"]],
    273: [["登记建档"], ["入场查验"]],
    274: [["支付宝"], ["银行卡密码"]],
    275: [["OIP Land Systems", "OIP"]],
    276: [["通报批评"]],
    277: [["强烈不满"], ["坚决反对"]],
    278: [["核污染水的安全问题"]],
    279: UNDERSPECIFIED,
    280: [["39个"]],
    281: [["北关枢纽"], ["卢沟桥枢纽"], ["永定河泛区"], ["东淀"]],
    282: [["当然成员"]],
    283: YESNO,
    284: YESNO,
    285: [["严重关切"]],
    286: [["武断且完全没有理由"]],
    287: [["南拒马河"], ["白沟引河"], ["萍河"]],
    288: [["更可靠的平台"]],
    289: [["100架"]],
    290: UNDERSPECIFIED,
    291: [["7月28日"]],
    292: [["债券融资"]],
    293: YESNO,
}
# A post that holds every fact of more than this many posts' worth is a common word (美国, 中国):
# the rejection run then leaves out only the question's own sources.
MAX_EXCLUDE = 5
# The corpus often holds other reports of the same event (another paper's account of the same
# fire, with another death toll): a post that has the question's KEY_TERMS rarest words is about
# the same subject and may answer it, so the rejection run leaves it out too (unless that is more
# than MAX_SAME_SUBJECT posts: then the words are not rare enough to name a subject).
KEY_TERMS = 2
MAX_SAME_SUBJECT = 15


def main() -> None:
    from eval.score import fact_found
    from eval.splits import crud_split, row_item
    from rag.ingest.loader import load_article

    questions = [
        json.loads(line)
        for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    missing = set(range(len(questions))) - FACTS.keys()
    if missing:
        raise SystemExit(f"no decision for questions {sorted(missing)}")
    from rag.retrieval.lexical import index_tokens

    # Splits never move: a question keeps its row's split (seen included); a new one takes its item's
    earlier = [json.loads(x) for x in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x]
    kept_split = {r["id"]: r for r in earlier}
    item_split = {row_item(r): r["split"] for r in earlier}
    posts = {p.stem: load_article(p, []) for p in sorted((HERE / "posts").glob("*.md"))}
    post_words = {d: set(index_tokens(a.title + "\n" + "\n".join(a.paragraphs))) for d, a in posts.items()}
    df: dict[str, int] = {}
    for ws in post_words.values():
        for w in ws:
            df[w] = df.get(w, 0) + 1
    rows, problems = [], []
    for i, q in enumerate(questions):
        decision = FACTS[i]
        row = {
            "id": q["id"],
            "question": q["question"],
            "reference": q["answers"][0],
            "kind": q["kind"],
            "docs": q["docs"],
            "split": crud_split(q["id"], item_split),
            **{
                k: v
                for k, v in kept_split.get(q["id"], {}).items()
                if k in ("split", "split_before", "seen_why")
            },
        }
        if isinstance(decision, str):
            rows.append({**row, "kept": False, "why_not": decision})
            continue
        gold = [
            [d, n]
            for d in q["source_fields"]["answer_in_docs"]
            for n, p in enumerate(posts[d].paragraphs, 1)
            if any(fact_found(f, p) for f in decision)
        ]
        unseen = [f[0] for f in decision if not any(fact_found(f, posts[d].paragraph(n)) for d, n in gold)]
        if unseen:
            problems.append(f"#{i} {q['question']}: facts not in the gold posts: {unseen}")
        holders = [
            d for d, a in posts.items() if all(any(fact_found(f, p) for p in a.paragraphs) for f in decision)
        ]
        keys = sorted((w for w in set(index_tokens(q["question"])) if df.get(w)), key=lambda w: df[w])[
            :KEY_TERMS
        ]
        same = [d for d, ws in post_words.items() if keys and set(keys) <= ws]
        exclude = sorted(
            set(q["docs"])
            | (set(holders) if len(holders) <= MAX_EXCLUDE else set())
            | (set(same) if len(same) <= MAX_SAME_SUBJECT else set())
        )
        rows.append({**row, "kept": True, "facts": decision, "gold": gold, "rejection_exclude": exclude})
    if problems:
        raise SystemExit("\n".join(problems))
    with (HERE / "labels.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    kept = [r for r in rows if r["kept"]]
    by = {}
    for r in kept:
        by[(r["kind"], r["split"])] = by.get((r["kind"], r["split"]), 0) + 1
    print(f"{len(kept)} of {len(rows)} questions kept; by kind and split: {dict(sorted(by.items()))}")


if __name__ == "__main__":
    main()
