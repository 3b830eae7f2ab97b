"""Words the demo data is made of: company and person names, industries, contact titles."""

from __future__ import annotations

# Trade-name syllables (pinyin), combined in pairs: "Huaxin", "Jinda", ...
TRADE_SYLLABLES = ("Hua", "Xin", "Jin", "Da", "Tai", "Long", "Feng", "Kang", "Sheng", "Hong",
                   "Yuan", "Heng", "Tong", "Ming", "Rui", "Bao", "Fu", "Guang", "Hai", "Cheng")

INDUSTRIES = {
    "large_enterprise": ("Manufacturing", "Electronics", "Automotive", "Chemicals", "Energy"),
    "mid_size": ("Trading", "Logistics", "Construction", "Pharmaceutical", "Textiles"),
    "education": ("Education",),
    "government": ("Public Sector",),
    "small_business": ("Retail", "Catering", "Hardware", "Printing", "Beauty"),
    "consumer": ("Household",),
}

COMPANY_SUFFIX = {
    "large_enterprise": "Group Co., Ltd.",
    "mid_size": "Co., Ltd.",
    "small_business": "Store",
}

SCHOOLS = ("No. {n} Middle School", "Experimental Primary School No. {n}",
           "Vocational College", "University of Technology", "Foreign Languages School")
AGENCIES = ("Municipal Bureau of Education", "Public Health Commission", "District Hospital",
            "Municipal Water Authority", "Urban Management Bureau", "Transport Bureau")

SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
            "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo")
GIVEN_NAMES = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Yang",
               "Jie", "Tao", "Ming", "Chao", "Xiu", "Hui", "Ping", "Gang", "Lin", "Hao")

CONTACT_TITLES = {
    "decision_maker": ("General Manager", "Director", "Owner", "Principal"),
    "influencer": ("Technical Lead", "Department Head", "Consultant"),
    "buyer": ("Purchasing Manager", "Procurement Officer"),
    "user": ("Store Manager", "Engineer", "Office Manager"),
    "gatekeeper": ("Assistant", "Receptionist"),
    "other": ("Accountant", "Warehouse Keeper"),
}
