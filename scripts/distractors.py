"""Generated news posts about other Changzhou topics, to measure retrieval in a many-post corpus.

They share the seed's everyday vocabulary (常州, 发展, 产业, 推进, 2025年…) but not its facts, so a
retriever that ranks by common words alone drifts to them. Deterministic for a given seed.
Usage: python scripts/distractors.py OUT_DIR [N]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

TOPICS = {
    "交通": ["地铁", "轨道交通", "高铁站", "快速路", "公交线路", "城际铁路"],
    "教育": ["中小学", "职业院校", "学位供给", "教师队伍", "课后服务", "高校"],
    "文旅": ["景区", "文化街区", "博物馆", "夜间经济", "旅游线路", "非遗项目"],
    "医疗": ["医院", "社区卫生服务中心", "医保", "家庭医生", "公共卫生", "养老服务"],
    "农业": ["高标准农田", "稻麦", "特色农产品", "乡村振兴", "农村电商", "种业"],
    "生态": ["河湖治理", "空气质量", "太湖", "生态廊道", "垃圾分类", "绿地"],
    "城建": ["老旧小区改造", "保障性住房", "城市更新", "地下管网", "口袋公园", "停车设施"],
    "民生": ["就业", "社保", "托育", "食品安全", "菜篮子", "社区服务"],
}
ACTORS = [
    "市交通运输局",
    "市教育局",
    "市文广旅局",
    "市卫健委",
    "市农业农村局",
    "市生态环境局",
    "市住建局",
    "市人社局",
    "武进区",
    "新北区",
    "天宁区",
    "钟楼区",
    "金坛区",
    "溧阳市",
]
VERBS = ["推进", "加快", "完善", "提升", "实施", "启动", "建成", "优化", "扩大", "深化"]
FRAMES = [
    "{actor}召开专题会议，部署{year}年{topic}工作，要求{verb}{thing}建设。",
    "据了解，{year}年常州将{verb}{thing}，计划新增{n}个{thing2}，总投资约{m}亿元。",
    "今年以来，{actor}围绕{thing}开展专项行动，累计完成{n}项任务，群众满意度达{p}%。",
    "到{target}年，全市{thing}覆盖率将达到{p}%，{thing2}数量超过{n}个。",
    "{actor}负责人表示，将坚持问题导向，{verb}{thing}和{thing2}协同发展，让市民有更多获得感。",
    "会议指出，{topic}事关群众切身利益，各地要{verb}{thing}，确保各项措施落地见效。",
    "记者从{actor}获悉，{thing}项目进展顺利，预计{month}月底前全面完工。",
    "下一步，常州将持续{verb}{thing}，推动{topic}高质量发展，为建设现代化城市提供支撑。",
]


def post(i: int, rng: random.Random) -> str:
    topic = rng.choice(list(TOPICS))
    things = TOPICS[topic]
    year = rng.choice([2021, 2022, 2023])
    paragraphs = []
    for frame in rng.sample(FRAMES, k=rng.randint(5, 8)):
        paragraphs.append(
            frame.format(
                actor=rng.choice(ACTORS),
                year=year,
                target=rng.choice([2024, 2025, 2027]),
                topic=topic,
                verb=rng.choice(VERBS),
                thing=rng.choice(things),
                thing2=rng.choice(things),
                n=rng.randint(3, 400),
                m=rng.randint(2, 90),
                p=rng.randint(60, 99),
                month=rng.randint(3, 12),
            )
        )
    title = f"常州{rng.choice(VERBS)}{rng.choice(things)}：{topic}工作再上新台阶"
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f'---\nlayout: post\ntitle: "{title}"\ndate: {date} 08:00:00 +0800\ncategories: 常州新闻\ntags: {topic}\n---\n{body}\n<p>（文章来源：常州日报）</p>\n'


def write(out: Path, n: int, seed: int = 7) -> list[Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = out / f"distractor-{i:04d}.md"
        path.write_text(post(i, rng), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    write(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200)
