"""Where the demo company sells: regions, areas, territories and their cities."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A city accounts are placed in: centre coordinates and its postal code prefix."""

    name: str
    province: str
    latitude: float
    longitude: float
    postal_prefix: str
    districts: tuple[str, ...]


@dataclass(frozen=True)
class TerritoryPlan:
    """One sales territory: its cities, how many reps work it, and its share of accounts."""

    name: str
    region: str
    area: str
    cities: tuple[City, ...]
    reps: int
    weight: int


SHANGHAI_WEST = City("Shanghai", "Shanghai", 31.2304, 121.4737, "200",
                     ("Huangpu", "Xuhui", "Jing'an", "Changning", "Putuo", "Hongkou"))
SHANGHAI_EAST = City("Shanghai", "Shanghai", 31.2215, 121.5447, "201",
                     ("Pudong", "Minhang", "Songjiang", "Jiading"))
NANJING = City("Nanjing", "Jiangsu", 32.0603, 118.7969, "210", ("Xuanwu", "Qinhuai", "Gulou"))
SUZHOU = City("Suzhou", "Jiangsu", 31.2990, 120.5853, "215", ("Gusu", "Wuzhong", "Xiangcheng"))
WUXI = City("Wuxi", "Jiangsu", 31.4912, 120.3119, "214", ("Liangxi", "Binhu", "Xinwu"))
HANGZHOU = City("Hangzhou", "Zhejiang", 30.2741, 120.1551, "310",
                ("Xihu", "Shangcheng", "Binjiang"))
NINGBO = City("Ningbo", "Zhejiang", 29.8683, 121.5440, "315", ("Haishu", "Jiangbei", "Yinzhou"))
BEIJING = City("Beijing", "Beijing", 39.9042, 116.4074, "100",
               ("Dongcheng", "Xicheng", "Chaoyang", "Haidian", "Fengtai"))
TIANJIN = City("Tianjin", "Tianjin", 39.3434, 117.3616, "300", ("Heping", "Hexi", "Nankai"))
SHIJIAZHUANG = City("Shijiazhuang", "Hebei", 38.0428, 114.5149, "050", ("Chang'an", "Qiaoxi"))
GUANGZHOU = City("Guangzhou", "Guangdong", 23.1291, 113.2644, "510",
                 ("Tianhe", "Yuexiu", "Haizhu", "Baiyun"))
FOSHAN = City("Foshan", "Guangdong", 23.0215, 113.1214, "528", ("Chancheng", "Nanhai", "Shunde"))
SHENZHEN = City("Shenzhen", "Guangdong", 22.5431, 114.0579, "518",
                ("Futian", "Nanshan", "Luohu", "Bao'an"))
DONGGUAN = City("Dongguan", "Guangdong", 23.0207, 113.7518, "523", ("Nancheng", "Dongcheng"))

EAST, NORTH, SOUTH = "East China", "North China", "South China"
REGIONS = (EAST, NORTH, SOUTH)

# 8 territories in 5 areas under 3 regions; 12 reps in all.
TERRITORIES = (
    TerritoryPlan("Shanghai Puxi", EAST, "Greater Shanghai", (SHANGHAI_WEST,), 2, 16),
    TerritoryPlan("Shanghai Pudong", EAST, "Greater Shanghai", (SHANGHAI_EAST,), 1, 10),
    TerritoryPlan("Jiangsu", EAST, "Jiangsu-Zhejiang", (NANJING, SUZHOU, WUXI), 2, 16),
    TerritoryPlan("Zhejiang", EAST, "Jiangsu-Zhejiang", (HANGZHOU, NINGBO), 1, 10),
    TerritoryPlan("Beijing", NORTH, "Capital Area", (BEIJING,), 2, 16),
    TerritoryPlan("Tianjin-Hebei", NORTH, "Bohai Rim", (TIANJIN, SHIJIAZHUANG), 1, 8),
    TerritoryPlan("Guangzhou-Foshan", SOUTH, "Pearl River Delta", (GUANGZHOU, FOSHAN), 2, 14),
    TerritoryPlan("Shenzhen-Dongguan", SOUTH, "Pearl River Delta", (SHENZHEN, DONGGUAN), 1, 10),
)

# Which regions each of the two managers looks after (their reps report to them).
MANAGER_REGIONS = ((EAST,), (NORTH, SOUTH))

STREETS = ("Renmin", "Zhongshan", "Jiefang", "Heping", "Jianshe", "Xinhua", "Wenhua", "Changjiang",
           "Huaihai", "Nanjing", "Yan'an", "Dongfeng", "Chaoyang", "Gongye", "Keji", "Binhe")
