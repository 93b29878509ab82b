"""A labelled set of "same matter" messages from the TipDM city message board (read from
../shared/data/tipdm, never copied here), for bench/duplicates.py and its shared_data test.

How it was built (by hand, from the data):
1. Every message (messages_likes.csv and messages_replies.csv, 7,125 messages) whose subject
   names a specific place (a community, estate, village, school, park...) was grouped by that
   place; the 103 places named in 3 or more subjects were listed with their subjects and dates.
2. Reading those lists, each matter that several messages are about was written down below as a
   rule: the place (a regular expression) and the problem (another one). A message is about
   the matter when the place is named in its subject or the first 150 characters of its text,
   and the problem in its subject or the first 300 characters of its text.
3. Two messages are the same matter (a positive pair) when they are about one matter in common.
   Messages of the same place that are about another problem (丽发新城's road vs its mixing
   plant, 雅礼中学's class fees vs the building-site noise, 中海国际社区's rockery vs the night
   work) are the hard negatives; every other pair is a negative.
The rules were checked against the subject lists they were written from (every subject of a
listed place read once); bench/duplicates.py prints a sample of pairs for a reader to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (name, place, problem)
MATTERS: list[tuple[str, str, str]] = [
    ("伊景园滨河苑捆绑销售车位", r"伊景园|滨河[苑院]",
     r"车位|捆绑|绑定|涨价|定向|开发商|购房|欺|坑|诈骗|霸王|强买|销售"),
    ("武广新城捆绑车位", r"武广新城", r"车位|捆绑"),
    ("丽发新城搅拌站", r"丽发新城", r"搅拌|噪音|粉尘|灰尘|烟尘|污染|扰民|太吵|拯救|混凝土|混泥土"),
    ("茶场村五组拆迁规划", r"茶场村", r"拆迁|征地|规划"),
    ("恒基凯旋门配套幼儿园", r"恒基凯旋门", r"幼儿园"),
    ("中海国际社区夜间施工", r"中海国际社区", r"施工|噪音|扰民|太吵"),
    ("雅礼中学工地噪音", r"雅礼中学|大华宾馆", r"噪音|施工|扰民"),
    ("雅礼中学班费", r"雅礼中学", r"班费"),
    ("咸嘉新村托管中心", r"咸嘉新村|西子园", r"托管"),
    ("悦峰园人防工程改菜市场", r"悦峰园", r"人防|菜市场|生鲜"),
    ("青青家园烟道", r"青青家园|青山新村", r"烟道|油烟管道"),
    ("青青家园住改商", r"青青家园|青山新村", r"住改商"),
    ("金麓小区商品房上市交易", r"金麓小区", r"上市交易"),
    ("泉星公园规划建设", r"泉星公园", r"规划|优化|效果图|开工|建设进度|工期"),
    ("武塘村文化组违建", r"武塘村", r"违章|违建|非法建"),
    ("武塘村坝湾组入户路", r"武塘村", r"杂草|入户路"),
    ("洪山公园建设", r"洪山公园", r"建设|开工|动工|启动|规划"),
    ("财富名园空地", r"财富名园", r"空地"),
    ("东成大厦公开资料", r"东成大厦", r"公开|成本|规划文件"),
    ("诺亚山林门口设医院", r"诺亚山林", r"医院"),
    ("星沙商业乐园油烟", r"星沙商业乐园", r"油烟|餐饮"),
    ("楚郡未来实验学校涨学费", r"楚郡未来实验学校", r"学费"),
    ("圣力华苑两证合一", r"圣力华苑", r"两证"),
    ("星沙派小区违建", r"星沙派小区", r"违建|违法|竣工|改建"),
    ("金晖优步花园精装价格", r"金晖优步花园", r"精装|价格|欺骗"),
    ("兴和社区廉租房漏水", r"兴和社区", r"漏水|起火"),
    ("老地方美食广场无证经营", r"老地方美食广场", r"消防|无证|无照"),
    ("银杏嘉园电梯", r"银杏嘉园", r"电梯"),
    ("生态动物园地铁", r"生态动物园", r"地铁"),
    ("泉星物流园赌博机", r"泉星物流园", r"赌博"),
    ("景城苑小区问题", r"景城苑", r"问题何时|几问|再问|三问|四问"),
    ("涉外景园人防车位", r"涉外景园", r"人防车位"),
    ("魅力之城商铺噪音", r"魅力之城", r"商铺|门面|噪音|扰民"),
    ("真人桥村拆迁", r"真人桥村", r"拆迁|征地"),
    ("绿地海外滩高铁", r"绿地海外滩", r"高铁"),
    ("一师润芳园门面油烟", r"润芳园", r"油烟|烧烤|门面"),
    ("阿普阿布开发商", r"阿普阿布", r"开发商|坑害"),
    ("梅溪湖嘉顺苑房屋质量", r"嘉顺苑", r"质量"),
    ("大汉汉园网签合同", r"大汉汉园", r"网签|合同"),
    ("盛世耀凯渣土车", r"盛世耀凯", r"渣土车"),
    ("樃梨领东汇麻将馆", r"领东汇", r"麻将|住改商"),
    ("梅岭公园非法殡仪馆", r"梅岭公园", r"殡仪|违章建筑"),
    ("金鹰小学附近施工噪音", r"金鹰小学", r"噪音|施工|扰民"),
    ("鑫天鑫城二次供水", r"鑫天鑫城", r"供水|水质"),
    ("西湖文化园偷钓", r"西湖文化园", r"偷钓"),
    ("同鑫家园漏水排水", r"同鑫家园", r"漏水|排水|反水|堵塞"),
    ("荣合桥社区出行困难", r"荣合桥社区", r"出行"),
    ("扬帆小区夜市", r"扬帆小区", r"夜市|夜宵"),
    ("珠江俪城麻将馆", r"珠江[俪郦]城", r"麻将"),
    ("时代星城小区乱象", r"时代星城", r"乱象"),
    ("科教新村培训机构", r"科教新村", r"乐舞轩|乐轩舞|培训|无证经营"),
    ("北辰中央公园夜间施工", r"北辰中央公园", r"施工"),
    ("明月山村住房条件", r"明月山村", r"住房条件"),
    ("时代年华小区收费", r"时代年华", r"收取|公示清单|计算"),
    ("仁爱医院", r"仁爱医院", r"举报|挂床|营销"),
    ("乌川湖村涵洞", r"乌川湖村", r"涵洞"),
    ("新桥社区烟包山组公路硬化", r"新桥社区", r"硬化"),
    ("A1区苑物业停车费", r"A1区苑", r"停车费"),
    ("第三中学补课", r"A7县第三中学", r"补课"),
]

PLACE_CHARS = 150
PROBLEM_CHARS = 300


@dataclass(frozen=True)
class Rule:
    name: str
    place: re.Pattern[str]
    problem: re.Pattern[str]


RULES = [Rule(name, re.compile(place), re.compile(problem)) for name, place, problem in MATTERS]


def matters_of(subject: str, text: str) -> frozenset[str]:
    """The matters a message is about (usually none, sometimes one, rarely two)."""
    found = set()
    where_place = f"{subject} {text[:PLACE_CHARS]}"
    where_problem = f"{subject} {text[:PROBLEM_CHARS]}"
    for rule in RULES:
        if rule.place.search(where_place) and rule.problem.search(where_problem):
            found.add(rule.name)
    return frozenset(found)
