"""The catalogue (事项目录) of 示范市: three levels, with deadlines, dispatch routes and the
templates the demo's requests are written from.

A leaf names its lead department and co-handlers; ``street`` leaves are street-level matters,
routed per district to the district's sub-centre (which passes them to a street office), with
the department as the default route. Placeholders in the templates: {addr} an address,
{place} a residential compound, {road} a road, {shop} a shop, {company} a company, {school} a
school, {hospital} a hospital, {line} a bus line, {n} a small number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL = ("consultation", "complaint", "report", "help", "suggestion", "praise", "other")
GRIEVANCE = ("complaint", "report", "help", "suggestion", "consultation")
SERVICE = ("consultation", "complaint", "help", "suggestion", "praise")


@dataclass(frozen=True)
class Leaf:
    name: str
    lead: str
    titles: tuple[str, ...]
    details: tuple[str, ...]
    co: tuple[str, ...] = ()
    street: bool = False  # street-level matter: routed to the district's sub-centre
    sign_hours: int | None = None
    handle_days: int | None = None
    urgent: tuple[int, int] | None = None  # (sign hours, handling hours) when urgent
    urgent_share: float = 0.0  # share of the demo's requests marked urgent
    types: tuple[str, ...] = GRIEVANCE


@dataclass(frozen=True)
class Branch:
    name: str
    leaves: tuple[Leaf, ...]
    handle_days: int | None = None
    types: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Top:
    code: str
    name: str
    branches: tuple[Branch, ...] = field(default_factory=tuple)
    sign_hours: int | None = None
    handle_days: int | None = None


L, B, T = Leaf, Branch, Top

CATALOGUE: tuple[Top, ...] = (
    T("10", "城乡建设", sign_hours=7, handle_days=15, branches=(
        B("供水", handle_days=5, leaves=(
            L("停水", "water", co=("housing",), sign_hours=2, handle_days=2, urgent=(1, 12),
              urgent_share=0.4, types=("complaint", "help", "consultation"),
              titles=("{place}停水{n}天无人通知", "{road}一带突然停水", "小区停水何时恢复"),
              details=("{addr}从前天开始停水，已经{n}天了，家中有老人小孩，生活非常不便，"
                       "物业说不清楚原因", "{addr}今天早上起全楼停水，没有看到任何停水通知，"
                       "希望尽快抢修恢复供水")),
            L("水质问题", "water", handle_days=5,
              titles=("{place}自来水发黄有异味", "自来水浑浊能否饮用"),
              details=("{addr}最近{n}天自来水发黄，烧开后有沉淀，有明显异味，担心影响健康，"
                       "请检测水质", "{addr}打开水龙头放出的水浑浊，持续好几天了")),
            L("水压不足", "water", co=("housing",), handle_days=7,
              titles=("{place}高楼层水压低", "晚高峰用水水压不足"),
              details=("{addr}住在{n}楼以上的住户每天晚上水压很小，热水器无法启动",
                       "{addr}近一个月水压明显不足，洗澡都困难，请二次供水设备管理单位处理")),
            L("水费水表", "water", types=("consultation", "complaint"),
              titles=("水费突然增加要求核查", "水表更换咨询"),
              details=("{addr}本月水费比平时高出{n}倍，家里没有漏水，怀疑水表计量有问题",
                       "咨询{place}更换智能水表是否收费，由谁负责")),
        )),
        B("排水", leaves=(
            L("管道堵塞", "water", co=("urban",), street=True, handle_days=5,
              titles=("{road}下水道堵塞污水外溢", "{place}化粪池满溢"),
              details=("{addr}路边下水道堵塞，污水漫到人行道，臭味很大，已经{n}天了",
                       "{addr}小区化粪池满溢，污水流到楼道口，物业不处理")),
            L("道路积水", "water", co=("urban", "transport"), handle_days=3, urgent=(1, 24),
              urgent_share=0.2, titles=("{road}下雨积水严重", "下穿通道积水影响通行"),
              details=("{addr}每次下雨都积水，最深处没过膝盖，车辆和行人无法通行",
                       "{road}下穿通道雨后积水{n}十公分，有车辆熄火")),
        )),
        B("物业管理", leaves=(
            L("物业服务", "housing", street=True,
              titles=("{place}物业服务差", "物业不作为要求整改"),
              details=("{addr}物业公司收费却不打扫卫生，楼道堆满杂物，门禁坏了{n}个月没修",
                       "{place}物业电梯坏了不修，业主多次反映没有结果")),
            L("物业收费", "housing", types=("complaint", "consultation", "report"),
              titles=("物业擅自上涨物业费", "停车管理费收费不合理"),
              details=("{place}物业公司未经业主大会同意将物业费上调{n}毛每平方米",
                       "{addr}物业对业主车位收取高额管理费，没有收费依据")),
            L("电梯安全", "market", co=("housing",), handle_days=5, urgent=(1, 24),
              urgent_share=0.3, titles=("{place}电梯频繁故障", "电梯困人"),
              details=("{addr}电梯一个月坏了{n}次，昨天还困住了人，担心安全",
                       "{addr}电梯运行时有异响并突然下坠，请尽快检查")),
        )),
        B("建筑施工", leaves=(
            L("夜间施工", "housing", co=("env",), handle_days=5,
              titles=("{road}工地夜间施工扰民", "工地凌晨还在施工"),
              details=("{addr}附近工地每天晚上施工到凌晨{n}点，噪音很大，严重影响休息",
                       "{road}在建项目夜间浇筑混凝土，没有夜间施工许可公示")),
            L("工地扬尘", "housing", co=("env", "urban"),
              titles=("{road}工地扬尘严重", "渣土车抛洒"),
              details=("{addr}旁边工地没有覆盖防尘网，刮风时尘土飞扬",
                       "{road}渣土车沿路抛洒，道路上全是泥土")),
            L("房屋质量", "housing", handle_days=15,
              titles=("新房漏水开发商不维修", "房屋墙体开裂"),
              details=("{place}交房不到{n}年，卫生间和外墙漏水，开发商一直推脱",
                       "{addr}老旧房屋墙体出现裂缝，担心安全")),
        )),
    )),
    T("11", "市场监管", sign_hours=7, handle_days=15, branches=(
        B("食品安全", handle_days=10, leaves=(
            L("餐饮卫生", "market", street=False, types=("complaint", "report"),
              titles=("{shop}卫生条件差", "在{shop}吃饭后腹泻"),
              details=("{addr}的{shop}后厨脏乱，有老鼠出没，操作人员不戴口罩",
                       "昨天在{shop}就餐后全家{n}人出现腹泻呕吐，要求调查")),
            L("过期食品", "market", types=("complaint", "report"),
              titles=("超市销售过期食品", "{shop}出售过期牛奶"),
              details=("在{addr}的超市购买的食品已过期{n}天，商家拒绝退换",
                       "{shop}货架上有多种过期食品仍在销售")),
            L("无证经营", "market", co=("urban",), types=("report", "complaint"),
              titles=("{road}无证食品作坊", "流动摊贩无证售卖熟食"),
              details=("{addr}有一家无证作坊生产糕点，环境脏乱",
                       "{road}路口有流动摊贩无证售卖熟食")),
        )),
        B("消费维权", leaves=(
            L("预付卡退费", "market", types=("complaint", "help"),
              titles=("{shop}关门预付卡无法退费", "健身房跑路"),
              details=("在{shop}办理了{n}千元的会员卡，现在门店关闭，无法联系商家退费",
                       "{addr}的健身房突然停业，几百名会员的预付费无法退回")),
            L("商品质量", "market", types=("complaint", "consultation"),
              titles=("购买的家电质量问题商家不予退换", "网购商品有质量问题"),
              details=("在{shop}购买的空调使用{n}天就坏了，商家拒绝更换",
                       "在本地商家网店购买的商品存在质量问题，售后不处理")),
            L("价格欺诈", "market", types=("complaint", "report"),
              titles=("{shop}价格标示不清", "景区周边商铺宰客"),
              details=("{shop}结账价格与标价不一致，多收了{n}十元",
                       "{addr}商铺对外地游客乱要价")),
        )),
        B("特种设备", leaves=(
            L("锅炉压力容器", "market", co=("emergency",), handle_days=5, urgent=(1, 24),
              urgent_share=0.2, types=("report", "complaint", "consultation"),
              titles=("{company}锅炉无证运行", "气瓶充装站违规充装"),
              details=("{addr}的{company}使用的锅炉没有检验合格证",
                       "{road}附近气瓶充装站给过期气瓶充气")),
        )),
    )),
    T("12", "劳动保障", sign_hours=7, handle_days=15, branches=(
        B("劳动关系", leaves=(
            L("拖欠工资", "hrss", co=("housing",), handle_days=10, types=("complaint", "help", "report"),
              titles=("{company}拖欠工资{n}个月", "农民工讨薪"),
              details=("我在{company}工作，公司已经拖欠{n}个月工资，多次讨要无果",
                       "{addr}工地拖欠{n}十名农民工工资，包工头失联")),
            L("劳动合同", "hrss", types=("consultation", "complaint"),
              titles=("公司不签劳动合同", "被公司违法辞退"),
              details=("在{company}工作{n}个月，公司一直不签劳动合同",
                       "{company}无故辞退员工，不支付经济补偿")),
        )),
        B("社会保险", leaves=(
            L("社保缴纳", "hrss", co=("tax",), types=("consultation", "complaint", "report"),
              titles=("单位未缴纳社保", "社保断缴如何补缴"),
              details=("{company}入职{n}个月没有为员工缴纳社保",
                       "咨询灵活就业人员社保断缴后如何补缴")),
            L("养老金", "hrss", types=("consultation", "help"),
              titles=("退休养老金待遇咨询", "养老金未按时发放"),
              details=("本人即将退休，咨询养老金如何计算和办理退休手续",
                       "本月养老金未按时到账，请核查")),
        )),
        B("就业创业", leaves=(
            L("失业登记", "hrss", types=("consultation", "help"),
              titles=("失业保险金如何申领", "就业困难人员认定"),
              details=("失业{n}个月，咨询失业保险金申领条件和流程",
                       "咨询就业困难人员认定需要哪些材料")),
            L("职业培训", "hrss", types=("consultation", "suggestion"),
              titles=("职业技能补贴培训咨询", "建议增加培训班次"),
              details=("咨询哪里可以参加免费的电工培训，有没有补贴",
                       "建议在{road}附近增加夜间技能培训班")),
        )),
    )),
    T("13", "交通出行", sign_hours=7, handle_days=15, branches=(
        B("公共交通", leaves=(
            L("公交服务", "bus", co=("transport",), handle_days=7, types=SERVICE,
              titles=("{line}路公交车过站不停", "{line}路司机服务态度差"),
              details=("在{road}站等{line}路公交，车辆过站不停，已经第{n}次了",
                       "{line}路公交司机急刹车、态度恶劣")),
            L("线路站点", "transport", co=("bus",), types=("suggestion", "consultation", "complaint"),
              titles=("建议{place}增设公交线路", "公交站点迁移咨询"),
              details=("{place}入住居民{n}千多户，附近没有公交站，出行不便，建议增设线路",
                       "{road}公交站点迁移后步行距离太远")),
            L("出租车网约车", "transport", types=("complaint", "report"),
              titles=("出租车拒载绕路", "网约车乱收费"),
              details=("在{road}打车，出租车司机拒载并要求一口价{n}十元", "网约车司机绕路多收费")),
        )),
        B("道路交通", leaves=(
            L("违法停车", "traffic-police", co=("urban",), street=True, handle_days=5,
              types=("complaint", "report", "suggestion"),
              titles=("{road}车辆乱停占用人行道", "消防通道被占用"),
              details=("{addr}人行道和盲道被车辆长期占用，行人只能走机动车道",
                       "{place}消防通道长期停满车辆，存在安全隐患")),
            L("信号灯设施", "traffic-police", handle_days=5, urgent=(2, 24), urgent_share=0.2,
              types=("complaint", "suggestion", "help"),
              titles=("{road}路口信号灯故障", "建议设置左转信号灯"),
              details=("{road}与{road}交叉口红绿灯不亮，车辆通行混乱",
                       "{road}路口车流量大，建议增设左转信号灯")),
            L("道路破损", "transport", co=("urban",), street=True, handle_days=10,
              titles=("{road}路面坑洼", "井盖破损缺失"),
              details=("{addr}路面有多个大坑，下雨后积水，已有电动车摔倒",
                       "{road}人行道井盖破损，晚上很危险")),
        )),
    )),
    T("14", "环境保护", sign_hours=7, handle_days=15, branches=(
        B("噪声污染", handle_days=10, leaves=(
            L("社会生活噪声", "env", co=("police",), street=True,
              titles=("{shop}音响噪声扰民", "广场舞噪声扰民"),
              details=("{addr}的{shop}每天晚上用大音响招揽顾客，直到{n}点",
                       "{place}广场舞音量太大，影响休息")),
            L("工业噪声", "env", types=("complaint", "report"),
              titles=("{company}机器噪声扰民", "工厂夜间生产噪声大"),
              details=("{addr}附近{company}的机器昼夜运转，噪声很大",
                       "{company}夜间生产，噪声影响周边居民")),
        )),
        B("大气污染", leaves=(
            L("工业废气", "env", types=("complaint", "report"),
              titles=("{company}排放刺鼻废气", "工厂烟囱冒黑烟"),
              details=("{addr}附近{company}每天晚上排放刺鼻气体，居民不敢开窗",
                       "{road}旁工厂烟囱经常冒黑烟")),
            L("餐饮油烟", "env", co=("urban",), street=True,
              titles=("{shop}油烟直排", "烧烤油烟扰民"),
              details=("{addr}楼下{shop}油烟没有净化直接排放，油烟进入楼上住户家中",
                       "{road}夜市烧烤油烟浓重")),
            L("露天焚烧", "env", co=("urban", "agri"), handle_days=3,
              types=("complaint", "report"),
              titles=("{road}附近露天焚烧垃圾", "焚烧秸秆烟雾大"),
              details=("{addr}附近有人露天焚烧垃圾，浓烟很大",
                       "{place}周边农田焚烧秸秆，烟雾弥漫")),
        )),
        B("水污染", leaves=(
            L("河道污染", "env", co=("water",),
              titles=("{road}旁河道发黑发臭", "河面漂浮死鱼"),
              details=("{road}旁边的河道水体发黑发臭，夏天气味更重", "{addr}附近河道出现大量死鱼")),
            L("企业偷排", "env", handle_days=5, urgent=(2, 24), urgent_share=0.2,
              types=("report", "complaint"),
              titles=("{company}夜间偷排污水", "雨水管排出异色污水"),
              details=("{company}在夜间通过暗管向河道排放污水", "{road}雨水排口流出红色污水")),
        )),
    )),
    T("15", "城市管理", sign_hours=7, handle_days=10, branches=(
        B("市容环境", leaves=(
            L("垃圾清运", "urban", street=True, handle_days=3,
              titles=("{place}垃圾堆积无人清运", "垃圾分类点脏乱"),
              details=("{addr}垃圾桶满了{n}天没有清运，蚊蝇滋生，气味难闻",
                       "{place}垃圾分类投放点脏乱")),
            L("占道经营", "urban", street=True, handle_days=5,
              titles=("{road}流动摊贩占道经营", "商铺出店经营"),
              details=("{road}早晚有大量流动摊贩占道经营，造成交通拥堵",
                       "{addr}商铺将货物摆到人行道上")),
            L("户外广告", "urban", types=("complaint", "report", "suggestion"),
              titles=("{road}广告牌松动有坠落风险", "小广告乱贴"),
              details=("{addr}楼顶大型广告牌松动，大风天摇晃", "{place}楼道和电线杆上贴满小广告")),
        )),
        B("违法建设", leaves=(
            L("违章搭建", "urban", co=("nrp",), street=True, handle_days=15,
              types=("report", "complaint"),
              titles=("{place}顶楼违章搭建", "一楼住户私自扩建"),
              details=("{addr}顶楼住户正在搭建彩钢房，影响楼顶防水",
                       "{place}一楼住户私自圈占绿地扩建")),
        )),
        B("市政设施", leaves=(
            L("路灯故障", "urban", handle_days=3,
              titles=("{road}路灯不亮", "路灯白天亮晚上不亮"),
              details=("{road}从{place}到路口一段有{n}盏路灯不亮，晚上很黑",
                       "{road}路灯时亮时不亮")),
            L("绿化养护", "urban", types=("complaint", "suggestion"),
              titles=("{road}行道树遮挡信号灯", "绿化带杂草丛生"),
              details=("{road}行道树枝叶遮挡交通信号灯，需要修剪",
                       "{place}周边绿化带杂草丛生，无人养护")),
        )),
    )),
    T("16", "教育", sign_hours=7, handle_days=15, branches=(
        B("招生入学", leaves=(
            L("义务教育入学", "edu", types=("consultation", "complaint", "help"),
              titles=("孩子入学学区划分咨询", "随迁子女入学咨询"),
              details=("{place}的孩子今年上小学，咨询对口的是哪所学校",
                       "外地户籍随迁子女在{school}入学需要哪些材料")),
            L("幼儿园", "edu", types=("consultation", "complaint", "suggestion"),
              titles=("普惠性幼儿园学位不足", "幼儿园乱收费"),
              details=("{place}附近只有一所幼儿园，学位严重不足",
                       "{school}附属幼儿园收取额外的兴趣班费用")),
        )),
        B("教育管理", leaves=(
            L("校外培训", "edu", co=("market",), types=("complaint", "report"),
              titles=("培训机构违规收费", "{school}周边违规学科培训"),
              details=("{addr}的培训机构一次性收取{n}个月以上的费用",
                       "{school}附近有机构违规开展学科类培训")),
            L("学校管理", "edu", types=("complaint", "suggestion", "consultation", "praise"),
              titles=("{school}作业负担过重", "{school}食堂饭菜质量差"),
              details=("{school}学生每天作业要写到晚上{n}点以后",
                       "{school}食堂饭菜质量差、价格高")),
        )),
    )),
    T("17", "卫生健康", sign_hours=7, handle_days=15, branches=(
        B("医疗服务", leaves=(
            L("医疗纠纷", "health", types=("complaint", "help"),
              titles=("对{hospital}诊疗结果有异议", "{hospital}医生态度差"),
              details=("家人在{hospital}手术后出现并发症，对诊疗过程有异议",
                       "在{hospital}就诊时医生态度冷漠")),
            L("就医环境", "health", types=("complaint", "suggestion", "praise"),
              titles=("{hospital}挂号难", "{hospital}停车难"),
              details=("{hospital}专家号一号难求，网上预约总是约满",
                       "{hospital}停车位不足，周边道路拥堵")),
        )),
        B("公共卫生", leaves=(
            L("疫苗接种", "health", types=("consultation", "complaint"),
              titles=("儿童疫苗接种预约咨询", "流感疫苗哪里可以接种"),
              details=("咨询{place}附近的社区卫生服务中心能否预约{n}价疫苗",
                       "咨询成人流感疫苗接种地点和费用")),
            L("病媒防治", "health", co=("urban",), street=True,
              titles=("{place}老鼠蟑螂多", "积水滋生蚊虫"),
              details=("{addr}附近老鼠蟑螂泛滥，要求消杀", "{place}地下室积水，蚊虫很多")),
        )),
        B("医疗保障", leaves=(
            L("医保报销", "medsec", types=("consultation", "complaint"),
              titles=("异地就医备案咨询", "医保报销比例咨询"),
              details=("准备去外地住院，咨询异地就医备案如何办理",
                       "住院费用{n}万元，咨询医保报销比例")),
        )),
    )),
    T("18", "民政服务", sign_hours=7, handle_days=15, branches=(
        B("社会救助", leaves=(
            L("低保申请", "civil", street=True, types=("consultation", "help", "complaint"),
              titles=("低保申请条件咨询", "低保审核不公"),
              details=("家庭收入低，咨询申请低保的条件和流程", "{place}有人不符合条件却领取低保")),
            L("临时救助", "civil", handle_days=5, urgent=(2, 24), urgent_share=0.3,
              types=("help",),
              titles=("突遭变故生活困难求助", "流浪人员求助"),
              details=("家中遭遇火灾，生活困难，请求临时救助",
                       "{road}桥下有流浪人员，天气转冷需要救助")),
        )),
        B("养老服务", leaves=(
            L("养老机构", "civil", types=("complaint", "consultation", "suggestion"),
              titles=("养老院服务质量差", "公办养老院入住咨询"),
              details=("{addr}的养老院护理人员不足，老人照顾不周",
                       "咨询公办养老院入住条件和排队时间")),
            L("高龄补贴", "civil", street=True, types=("consultation", "complaint"),
              titles=("高龄津贴未发放", "八十岁以上老人补贴咨询"),
              details=("家中老人年满{n}十岁，高龄津贴一直没有发放", "咨询高龄补贴申领流程")),
        )),
        B("婚姻殡葬", leaves=(
            L("婚姻登记", "civil", types=("consultation",),
              titles=("婚姻登记预约咨询", "补领结婚证需要什么材料"),
              details=("咨询婚姻登记能否周末办理", "结婚证遗失，咨询补领需要的材料")),
        )),
    )),
    T("19", "住房保障", sign_hours=7, handle_days=15, branches=(
        B("保障性住房", leaves=(
            L("公租房", "housing", types=("consultation", "complaint", "help"),
              titles=("公租房申请进度查询", "公租房维修不及时"),
              details=("{n}个月前提交的公租房申请至今没有结果",
                       "{place}公租房屋顶漏水，报修后无人处理")),
        )),
        B("住房公积金", leaves=(
            L("公积金提取", "hfund", types=("consultation", "complaint"),
              titles=("公积金提取咨询", "公积金贷款审批慢"),
              details=("咨询租房提取公积金的额度和办理方式", "公积金贷款申请已{n}周仍未审批")),
        )),
        B("不动产登记", leaves=(
            L("办证难", "nrp", co=("housing",), types=("complaint", "help", "consultation"),
              titles=("{place}交房多年办不了房产证", "不动产登记办理咨询"),
              details=("{place}交房{n}年了，开发商一直没有办理不动产权证",
                       "咨询二手房过户需要哪些材料")),
        )),
    )),
    T("20", "能源供应", sign_hours=4, handle_days=5, branches=(
        B("供电", leaves=(
            L("停电", "power", sign_hours=1, handle_days=1, urgent=(1, 6), urgent_share=0.5,
              types=("complaint", "help", "consultation"),
              titles=("{place}突然停电", "频繁停电要求查明原因"),
              details=("{addr}从{n}点开始停电，没有接到停电通知",
                       "{place}这个月停电{n}次，影响正常生活")),
            L("电费电表", "power", types=("consultation", "complaint"),
              titles=("电费异常偏高", "阶梯电价咨询"),
              details=("{addr}本月电费比上月高出很多，怀疑电表有问题", "咨询居民阶梯电价如何计算")),
        )),
        B("燃气", leaves=(
            L("燃气泄漏", "gas", co=("emergency",), sign_hours=1, handle_days=1, urgent=(1, 4),
              urgent_share=0.8, types=("help", "report", "complaint"),
              titles=("{place}闻到燃气味", "楼道燃气管道漏气"),
              details=("{addr}楼道里有很浓的燃气味，怀疑管道泄漏", "{place}燃气表附近有漏气声音")),
            L("燃气服务", "gas", co=("housing",), types=("consultation", "complaint"),
              titles=("燃气开户咨询", "燃气停气未提前通知"),
              details=("新房入住，咨询燃气开户流程和费用", "{place}燃气停气{n}天没有提前通知")),
        )),
    )),
    T("21", "公安政务", sign_hours=7, handle_days=10, branches=(
        B("户籍证件", leaves=(
            L("户口迁移", "police", types=("consultation", "complaint"),
              titles=("户口迁入条件咨询", "新生儿落户办理"),
              details=("在示范市购房后咨询户口迁入的条件", "咨询新生儿落户需要哪些材料")),
            L("身份证件", "police", types=("consultation", "complaint", "praise"),
              titles=("身份证补办咨询", "出入境证件办理时间"),
              details=("身份证遗失，咨询补办流程和临时身份证", "咨询护照办理需要多少个工作日")),
        )),
        B("交通管理业务", leaves=(
            L("驾驶证车辆", "traffic-police", types=("consultation", "complaint"),
              titles=("驾驶证到期换证咨询", "违章处理咨询"),
              details=("驾驶证即将到期，咨询换证需要体检吗", "收到违章短信但当时车辆不在现场")),
        )),
    )),
    T("22", "文旅农业", sign_hours=7, handle_days=15, branches=(
        B("文化旅游", leaves=(
            L("旅游投诉", "culture", co=("market",), types=("complaint", "consultation", "praise"),
              titles=("跟团游被强制购物", "景区门票退票难"),
              details=("参加本地旅行社的一日游，导游强制购物",
                       "在景区购买门票后因下雨无法游玩，要求退票")),
        )),
        B("农业农村", leaves=(
            L("农资质量", "agri", co=("market",), types=("complaint", "report"),
              titles=("购买的种子不发芽", "假化肥坑农"),
              details=("在西山县农资店购买的种子发芽率很低", "购买的化肥怀疑是假冒产品")),
        )),
    )),
    T("23", "咨询建议", sign_hours=7, handle_days=15, branches=(
        B("政策咨询", types=("consultation", "suggestion", "praise", "other"), leaves=(
            L("惠企政策", "market", co=("hrss", "tax"),
              types=("consultation", "suggestion"),
              titles=("小微企业补贴政策咨询", "个体户减税政策咨询"),
              details=("咨询小微企业吸纳就业的补贴政策", "咨询个体工商户今年有哪些税费减免")),
            L("城市建议", "urban", types=("suggestion", "praise", "other"),
              titles=("关于{road}增设公共厕所的建议", "表扬{road}环卫工人"),
              details=("{road}沿线人流量大但没有公共厕所，建议增设",
                       "{road}的环卫工人工作认真负责，特此表扬")),
        )),
    )),
)


def leaf_count() -> int:
    return sum(len(b.leaves) for t in CATALOGUE for b in t.branches)


def leaves_by_code() -> dict[str, Leaf]:
    """Every leaf under the category code the demo gives it (``city._build_catalogue``), in the
    catalogue's order."""
    return {f"{top.code}{b_index:02d}{l_index:02d}": leaf
            for top in CATALOGUE
            for b_index, branch in enumerate(top.branches, start=1)
            for l_index, leaf in enumerate(branch.leaves, start=1)}
