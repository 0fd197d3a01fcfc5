"""The demo enterprises: who they are, where, and what they do. Names and figures are invented.

Each row: key, name, kinds, industry, banner, (lat, lon) of the main site, site name.
Coordinates sit around the real towns and industrial parks of DOMAIN.md §8.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoEnterprise:
    key: str
    name: str
    kinds: tuple[str, ...]
    industry: str
    division: str
    lat: str
    lon: str
    site: str


P, U, C = "producer", "utiliser", "carrier"

ENTERPRISES: tuple[DemoEnterprise, ...] = (
    # Jungar (准格尔旗): coal, power, high-alumina fly ash, gangue, gasification slag, FGD gypsum
    DemoEnterprise("jungar_power", "准格尔旗大路坪电力有限公司", (P,), "火力发电", "150622", "39.9872", "111.2841", "大路坪电厂"),
    DemoEnterprise("jungar_coal_hdg", "准格尔旗黑岱沟煤业有限公司", (P,), "煤炭开采和洗选", "150622", "39.7812", "111.2563", "黑岱沟露天矿选煤厂"),
    DemoEnterprise("jungar_coal_hec", "准格尔旗哈尔乌素煤炭有限公司", (P,), "煤炭开采和洗选", "150622", "39.7405", "111.1508", "哈尔乌素选煤厂"),
    DemoEnterprise("jungar_power_2", "鄂尔多斯市准能热电有限公司", (P,), "火力发电", "150622", "39.8702", "111.2285", "薛家湾热电厂"),
    DemoEnterprise("jungar_chem", "准格尔旗大路煤化工有限公司", (P,), "煤制化学品", "150622", "40.0214", "111.3308", "大路煤制甲醇项目"),
    DemoEnterprise("jungar_alumina", "准格尔旗高铝粉煤灰提取氧化铝有限公司", (U,), "氧化铝冶炼（粉煤灰提铝）", "150622", "40.0109", "111.3124", "粉煤灰提铝厂"),
    DemoEnterprise("jungar_backfill", "准格尔旗绿源矿山充填有限公司", (U,), "矿山充填", "150622", "39.8031", "111.1902", "井下充填站"),
    DemoEnterprise("jungar_gypsum", "准格尔旗石膏建材有限公司", (U,), "石膏板制造", "150622", "39.8923", "111.2577", "纸面石膏板厂"),
    # Uxin (乌审旗): coal-to-olefins, gasification slag, gangue
    DemoEnterprise("uxin_olefin", "乌审旗图克煤制烯烃有限公司", (P,), "煤制烯烃", "150626", "39.1126", "109.0832", "图克煤制烯烃厂"),
    DemoEnterprise("uxin_methanol", "乌审旗苏里格煤化工有限公司", (P,), "煤制甲醇", "150626", "39.0874", "109.1261", "甲醇厂"),
    DemoEnterprise("uxin_coal", "乌审旗纳林河煤矿有限公司", (P,), "煤炭开采和洗选", "150626", "38.8655", "109.1844", "纳林河二号井"),
    DemoEnterprise("uxin_ceramsite", "乌审旗气化渣陶粒有限公司", (U,), "陶粒及轻质建材", "150626", "39.1009", "109.1020", "陶粒厂"),
    DemoEnterprise("uxin_carbon", "乌审旗精碳粉资源综合利用有限公司", (U,), "气化渣提碳", "150626", "39.1211", "109.0712", "精碳粉车间"),
    DemoEnterprise("uxin_gas", "乌审旗苏里格天然气开采有限公司", (P,), "天然气开采", "150626", "38.7402", "108.9015", "苏里格集气站"),
    # Otog (鄂托克旗): carbide slag, ferroalloy and metallurgical slag
    DemoEnterprise("otog_pvc", "鄂托克旗棋盘井氯碱化工有限公司", (P,), "电石法聚氯乙烯", "150624", "39.3541", "106.9907", "PVC及电石厂"),
    DemoEnterprise("otog_pvc_2", "鄂托克旗蒙西电石化工有限公司", (P,), "电石制造", "150624", "39.3302", "107.0248", "电石厂"),
    DemoEnterprise("otog_ferro", "鄂托克旗棋盘井硅铁合金有限公司", (P,), "铁合金冶炼", "150624", "39.3688", "106.9612", "硅铁冶炼厂"),
    DemoEnterprise("otog_ferro_2", "鄂托克旗蒙西锰硅合金有限公司", (P,), "铁合金冶炼", "150624", "39.3195", "107.0523", "锰硅合金厂"),
    DemoEnterprise("otog_cement", "鄂托克旗电石渣水泥有限公司", (U,), "水泥制造（电石渣制水泥）", "150624", "39.3421", "107.0106", "3000t/d 熟料生产线"),
    DemoEnterprise("otog_slag_powder", "鄂托克旗冶金渣微粉有限公司", (U,), "矿渣微粉", "150624", "39.3610", "107.0334", "微粉厂"),
    DemoEnterprise("otog_power", "鄂托克旗蒙西自备电厂有限公司", (P,), "火力发电", "150624", "39.3777", "107.0450", "自备电厂"),
    # Other banners
    DemoEnterprise("dalad_power", "达拉特旗树林召发电有限公司", (P,), "火力发电", "150621", "40.3812", "110.0605", "达拉特电厂"),
    DemoEnterprise("dalad_brick", "达拉特旗新型墙材有限公司", (U,), "烧结砖及墙体材料", "150621", "40.3966", "110.0911", "墙材厂"),
    DemoEnterprise("ejin_coal", "伊金霍洛旗乌兰木伦煤业有限公司", (P,), "煤炭开采和洗选", "150627", "39.4721", "110.0123", "乌兰木伦选煤厂"),
    DemoEnterprise("ejin_coal_2", "伊金霍洛旗补连塔煤炭有限公司", (P,), "煤炭开采和洗选", "150627", "39.4206", "110.1315", "补连塔选煤厂"),
    DemoEnterprise("ejin_concrete", "伊金霍洛旗绿色混凝土有限公司", (U,), "商品混凝土", "150627", "39.5702", "109.7461", "混凝土搅拌站"),
    DemoEnterprise("dongsheng_brick", "鄂尔多斯市东胜绿色建材有限公司", (U,), "蒸压砖及砌块", "150602", "39.6321", "109.8127", "东胜建材厂"),
    DemoEnterprise("dongsheng_cement", "鄂尔多斯市东胜水泥有限公司", (U,), "水泥制造", "150602", "39.6544", "109.8530", "水泥粉磨站"),
    DemoEnterprise("hanggin_road", "杭锦旗路基材料有限公司", (U,), "道路基层材料", "150625", "39.8402", "108.7351", "路基材料厂"),
    DemoEnterprise("otog_front_coal", "鄂托克前旗上海庙煤业有限公司", (P,), "煤炭开采和洗选", "150623", "38.2704", "106.9928", "上海庙选煤厂"),
    DemoEnterprise("kangbashi_env", "鄂尔多斯市康巴什固废处置有限公司", (U,), "一般工业固废填埋", "150603", "39.5990", "109.8011", "Ⅱ类填埋场"),
    # Carriers
    DemoEnterprise("carrier_ordos", "鄂尔多斯市通达物流运输有限公司", (C,), "道路货物运输", "150602", "39.6012", "109.7702", "东胜车队"),
    DemoEnterprise("carrier_jungar", "准格尔旗顺达运输有限公司", (C,), "道路货物运输", "150622", "39.8611", "111.2033", "薛家湾车队"),
    DemoEnterprise("carrier_otog", "鄂托克旗棋盘井运输有限公司", (C,), "道路货物运输", "150624", "39.3450", "106.9801", "棋盘井车队"),
    # A brick and building-material works that uses fly ash and gangue (the demo utiliser's)
    DemoEnterprise("jungar_brick", "准格尔旗煤矸石粉煤灰新型建材有限公司", (U,), "烧结砖及墙体材料", "150622", "39.8520", "111.1985", "矸石烧结砖厂"),
)

# The five demo logins of the README; password wasteex-demo-2025.
DEMO_PASSWORD = "wasteex-demo-2025"
USERS = (
    ("admin@demo.wasteex.cn", "平台管理员", "admin", None),
    ("regulator@demo.wasteex.cn", "市工信局监管员", "regulator", None),
    ("producer@demo.wasteex.cn", "大路坪电厂环保主管", "none", "jungar_power"),
    ("utiliser@demo.wasteex.cn", "矸石砖厂经理", "none", "jungar_brick"),
    ("carrier@demo.wasteex.cn", "通达物流调度", "none", "carrier_ordos"),
)

# Facilities of the demo producer's plant (MEE facility codes).
PRODUCER_FACILITIES = (
    ("generation", "CS-01", "1号机组电除尘器（粉煤灰产生）"),
    ("generation", "CS-02", "石灰石-石膏湿法脱硫系统"),
    ("storage", "ZC-01", "粉煤灰储灰库"),
    ("storage", "ZC-02", "脱硫石膏棚库"),
    ("self_utilisation", "LY-01", "厂内粉煤灰制砖线"),
    ("self_disposal", "CZ-01", "厂外Ⅱ类灰场"),
)
