"""The catalog as published (DOMAIN.md §3–§5), loaded into tables by a migration.

Marked *(check)* in DOMAIN.md: these are reconstructions, so they live in
tables that a platform admin can correct; this module is only the first load.
"""
from __future__ import annotations

# (sw_code, s_code, name_zh, name_en)
CATEGORIES = (
    ("SW01", "S01", "冶炼废渣", "Smelting / metallurgical slag"),
    ("SW02", "S02", "粉煤灰", "Fly ash"),
    ("SW03", "S03", "炉渣", "Boiler slag"),
    ("SW04", "S04", "煤矸石", "Coal gangue"),
    ("SW05", "S05", "尾矿", "Tailings"),
    ("SW06", "S06", "脱硫石膏", "Desulfurisation (FGD) gypsum"),
    ("SW07", "S07", "污泥", "Sludge"),
    ("SW09", "S09", "赤泥", "Red mud"),
    ("SW10", "S10", "磷石膏", "Phosphogypsum"),
    ("SW11", "S11", "工业副产石膏", "Other by-product gypsum"),
    ("SW12", "S12", "钻井岩屑", "Drilling cuttings"),
    ("SW13", "S13", "食品残渣", "Food residues"),
    ("SW14", "S14", "纺织皮革业废物", "Textile and leather waste"),
    ("SW15", "S15", "造纸印刷业废物", "Paper and printing waste"),
    ("SW16", "S16", "化工废物（含电石渣）", "Chemical-industry waste (incl. carbide slag)"),
    ("SW17", "S17", "可再生类废物", "Recyclables"),
    ("SW59", "S59", "其他工业固体废物（含气化渣）", "Other industrial solid waste (incl. gasification slag)"),
)

# (key, name_zh, name_en, unit, min, max)
QUALITY_ATTRIBUTES = (
    ("al2o3_pct", "氧化铝含量", "Al₂O₃", "%", "0", "100"),
    ("sio2_pct", "二氧化硅含量", "SiO₂", "%", "0", "100"),
    ("loi_pct", "烧失量", "Loss on ignition", "%", "0", "100"),
    ("fineness_45um_pct", "细度（45μm筛余）", "Fineness (45 µm sieve residue)", "%", "0", "100"),
    ("moisture_pct", "含水率", "Moisture", "%", "0", "100"),
    ("residual_carbon_pct", "残炭含量", "Residual carbon", "%", "0", "100"),
    ("caso4_2h2o_pct", "二水硫酸钙纯度", "CaSO₄·2H₂O purity", "%", "0", "100"),
    ("chloride_ppm", "氯离子含量", "Chloride (Cl⁻)", "ppm", "0", "1000000"),
    ("caoh2_pct", "氢氧化钙含量", "Ca(OH)₂", "%", "0", "100"),
    ("calorific_mj_kg", "发热量", "Calorific value", "MJ/kg", "0", "40"),
    ("sulphur_pct", "全硫含量", "Sulphur", "%", "0", "100"),
    ("radioactivity_internal", "内照射指数", "Internal exposure index (IRa)", "", "0", "10"),
    ("radioactivity_external", "外照射指数", "External exposure index (Iγ)", "", "0", "10"),
)

# (key, name_zh, name_en, kind, sw codes it applies to; empty = any)
UTILISATION, DISPOSAL = "utilisation", "disposal"
ROUTES = (
    ("mine_backfill", "井下充填", "Mine backfill", UTILISATION, ("SW04", "SW02", "SW01", "SW59", "SW03")),
    ("rewashing", "煤矸石再洗选", "Re-washing", UTILISATION, ("SW04",)),
    ("sintered_brick", "烧结砖及墙体材料", "Sintered brick and wall material", UTILISATION, ("SW04", "SW02", "SW03", "SW59")),
    ("ceramsite", "陶粒及轻质建材", "Ceramsite and lightweight material", UTILISATION, ("SW04", "SW02", "SW59", "SW07")),
    ("alc_precast", "ALC板材及预制构件", "ALC panels and precast members", UTILISATION, ("SW04", "SW02")),
    ("calcined_kaolin", "煅烧高岭土", "Calcined kaolin", UTILISATION, ("SW04",)),
    ("al_si_products", "铝硅产品", "Aluminium-silicon products", UTILISATION, ("SW04", "SW02")),
    ("gangue_power", "矸石发电", "Gangue power generation", UTILISATION, ("SW04",)),
    ("cement_admixture", "水泥及混凝土掺合料", "Cement and concrete admixture", UTILISATION, ("SW02", "SW03", "SW01", "SW59", "SW06")),
    ("autoclaved_brick", "蒸压砖及砌块", "Autoclaved brick and block", UTILISATION, ("SW02", "SW03", "SW16")),
    ("road_base", "道路基层材料", "Road base", UTILISATION, ("SW02", "SW03", "SW01", "SW59", "SW04")),
    ("alumina_extraction", "提取氧化铝（及镓）", "Alumina (and gallium) extraction", UTILISATION, ("SW02",)),
    ("catalyst_carrier", "催化剂载体及支撑剂", "Catalyst carriers and proppants", UTILISATION, ("SW02",)),
    ("carbon_recovery", "气化渣提碳（精碳粉）", "Carbon recovery", UTILISATION, ("SW59",)),
    ("fertiliser_admixture", "缓释肥掺合料", "Slow-release fertiliser admixture", UTILISATION, ("SW59",)),
    ("gypsum_powder", "建筑石膏粉", "Building gypsum powder", UTILISATION, ("SW06", "SW10", "SW11")),
    ("gypsum_board", "纸面石膏板", "Gypsum board", UTILISATION, ("SW06", "SW10", "SW11")),
    ("cement_retarder", "水泥缓凝剂", "Cement retarder", UTILISATION, ("SW06", "SW10", "SW11")),
    ("high_strength_gypsum", "高强石膏及石膏晶须", "High-strength and whisker gypsum", UTILISATION, ("SW06", "SW11")),
    ("soil_conditioner", "土壤调理剂", "Soil conditioner", UTILISATION, ("SW06",)),
    ("cement_raw_meal", "水泥生料（替代石灰石）", "Cement raw meal (replaces limestone)", UTILISATION, ("SW16",)),
    ("fgd_sorbent", "烟气脱硫剂", "Flue-gas desulfurisation sorbent", UTILISATION, ("SW16",)),
    ("nano_caco3", "纳米碳酸钙", "Nano calcium carbonate", UTILISATION, ("SW16",)),
    ("slag_powder", "超细粉胶凝材料", "Ultra-fine powder binder", UTILISATION, ("SW01", "SW03")),
    ("white_carbon_black", "白炭黑（硅灰）", "White carbon black (silica fume)", UTILISATION, ("SW01",)),
    ("other_utilisation", "其他综合利用", "Other utilisation", UTILISATION, ()),
    ("landfill_class_i", "Ⅰ类场填埋", "Landfill at a class I site", DISPOSAL, ()),
    ("landfill_class_ii", "Ⅱ类场填埋", "Landfill at a class II site", DISPOSAL, ()),
    ("other_disposal", "其他处置", "Other disposal", DISPOSAL, ()),
)
