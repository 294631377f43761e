"""Reworded CRUD-RAG **dev** questions, written on 2026-11-28 to tune the extractive answerer on
questions that do not reuse the article's words (the CRUD-RAG questions were written from the
posts and the seed's dev questions with the rules, so dev had almost no rewording). Each keeps the
facts, gold paragraphs and rejection posts of the question it rewords; all are in the dev split.
Writes eval/crud/paraphrases.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# original question (exactly as in labels.jsonl) → reworded question
REWORDED = {
    "发生在哪个州的野火？": "山火烧到了美国哪个州？",
    "希音湾区西部智慧产业园项目预计在哪个月完成主体施工？": "希音在肇庆的产业园主体工程打算几月份完工？",
    "抖音直播在什么时间开始进行处罚？": "抖音从哪天起处罚违规直播？",
    "HXN3型大功率内燃机车具备哪些特点？": "HXN3机车有什么优点？",
    "中央政治局会议提出了什么方案？": "政治局开会时拿出了什么化解债务的办法？",
    "《上市公司独立董事管理办法》将于哪一天起施行？": "独董管理新规什么时候生效？",
    "哪两个国家的海军舰艇参加了联合训练？": "联合训练是哪两国海军一起搞的？",
    "谁在会议上提出了四点主张？": "会上是谁讲了四点意见？",
    "中方要求日本政府以什么态度和方式处置福岛核污染水？": "对于福岛排污，中国希望日本怎么处理？",
    "谁提出了人工智能的“基本原理”？": "哪位数学家谈到了AI的基本原理？",
    "2023世界机器人大会将在哪里举办？": "今年的世界机器人大会在什么地方开？",
    "尼日尔军方愿意通过什么途径来解决当前问题？": "尼日尔军政府想用什么办法化解危机？",
    "黎波里武装冲突中有多少人死亡？": "利比亚首都的交火造成多少人遇难？",
    "全国人大常委会启动了什么活动？": "全国人大常委会开展了哪项检查？",
    "定向杀伤地雷朝向哪个方向？": "扎波罗热核电站的地雷冲着哪个方向？",
    "北京市参保企业职工的社会保险月缴费基数的上限是多少？": "北京职工社保每月缴费基数最高是多少钱？",
    "李国英部长要求完善哪个机制？": "水利部部长要求健全什么制度？",
    "蔡奇的职位是什么？": "蔡奇担任什么职务？",
    "广州法院提出了多少条措施？": "广州的法院出台了几条举措？",
    "察汗诺互通转体桥创下了哪三项纪录？": "察汗诺转体桥打破了哪几项纪录？",
    "2023年上半年全国市场监管部门发现了多少批次的不合格样品？": "今年上半年市场监管抽检查出多少批次不合格？",
    "应急管理部准备了多少人的支援力量？": "应急管理部预置了多少名救援人员？",
    "李丰被选为什么职位？": "李丰当选了什么？",
    "什么将代替原有的纸质证明？": "住房公积金的纸质证明被什么取代？",
    "防东铁路预计到什么时间具备开通运营条件？": "防城港到东兴的铁路什么时候能通车？",
    "山东泰安高铁站候车厅内有多少个按摩椅？": "泰安站候车室里摆了多少台按摩椅？",
    "截至2023年7月末，中国的外汇储备规模是多少？": "7月底我国外储有多少？",
    "汉阳树公园北园什么时候对外开放？": "汉阳树公园北园哪天开园？",
    "泰国首台托卡马克实验装置TT-1是由哪个机构赠送的？": "泰国第一台托卡马克装置是谁送的？",
    "福岛核污染水最早可能在什么时间开始排海？": "日本最早什么时候把核污水排进海里？",
    "2023年8月9日起，柴油价格每吨提高了多少元？": "8月9日这轮调价，柴油每吨涨了多少？",
    "谁正在调查哈佛大学的招生过程中是否存在种族歧视？": "哈佛招生涉嫌种族歧视，由哪个部门在查？",
    "鲁齐巴齐水电站的装机规模是多少兆瓦？": "鲁齐巴齐水电站装机容量有多大？",
    "月球-25号探测器预计进入月球轨道时距离月球表面多远？": "月球-25号入轨时离月面大约多高？",
    "永安号盾构机将依次下穿哪些地方？": "永安号盾构机要从哪些地方底下穿过？",
    # English, over the Chinese posts
    "黎波里武装冲突中有多少人死亡？ (en)": "How many people died in the clashes in Tripoli?",
    "蔡奇的职位是什么？ (en)": "What posts does Cai Qi hold?",
    "2023世界机器人大会将在哪里举办？ (en)": "Where will the 2023 World Robot Conference be held?",
    "防东铁路预计到什么时间具备开通运营条件？ (en)": "When will the Fangdong railway be ready to open?",
    "山东泰安高铁站候车厅内有多少个按摩椅？ (en)": "How many massage chairs are there in the waiting hall of Tai'an station?",
}
NOTE = "dev, written 2026-11-28 to tune on reworded questions; rewords {id}"


def main() -> None:
    labels = {}
    for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["kept"]:
            labels[row["question"]] = row
    out = []
    for i, (original, question) in enumerate(REWORDED.items(), 1):
        row = labels[original.removesuffix(" (en)")]
        if row["split"] != "dev":
            raise SystemExit(f"{original}: not a dev question; only dev questions are reworded")
        out.append(
            {
                **row,
                "id": f"crud-reworded-{i:02d}",
                "question": question,
                "origin": NOTE.format(id=row["id"]),
                "rewords": row["id"],
            }
        )
    (HERE / "paraphrases.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), encoding="utf-8"
    )
    print(f"{len(out)} reworded dev questions")


if __name__ == "__main__":
    main()
