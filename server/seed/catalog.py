"""The demo product catalogue: ten categories of twenty products each."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STANDARD_VAT = Decimal("0.13")
REDUCED_VAT = Decimal("0.09")
SERVICE_VAT = Decimal("0.06")


@dataclass(frozen=True)
class CategoryPlan:
    """A category: its SKU prefix, unit, VAT rate, price range and product name parts."""

    name: str
    prefix: str
    unit: str
    tax_rate: Decimal
    price_range: tuple[int, int]
    kinds: tuple[str, ...]
    variants: tuple[str, ...]


CATEGORIES = (
    CategoryPlan("Beverages", "BEV", "case", REDUCED_VAT, (40, 260),
                 ("Green Tea", "Oolong Tea", "Mineral Water", "Soy Milk", "Orange Juice"),
                 ("330ml x24", "500ml x24", "1L x12", "Family Pack")),
    CategoryPlan("Snacks", "SNK", "carton", REDUCED_VAT, (30, 180),
                 ("Rice Crackers", "Sunflower Seeds", "Mooncakes", "Dried Mango", "Peanuts"),
                 ("Classic", "Spicy", "Gift Box", "Value Pack")),
    CategoryPlan("Office Supplies", "OFF", "box", STANDARD_VAT, (10, 120),
                 ("A4 Paper", "Gel Pens", "Binders", "Sticky Notes", "Staplers"),
                 ("Standard", "Premium", "Bulk", "Eco")),
    CategoryPlan("Computers", "CMP", "each", STANDARD_VAT, (2500, 12000),
                 ("Laptop", "Desktop", "Workstation", "Mini PC", "Tablet"),
                 ("14-inch", "16-inch", "Pro", "Lite")),
    CategoryPlan("Networking", "NET", "each", STANDARD_VAT, (150, 6000),
                 ("Router", "Switch", "Access Point", "Firewall", "Cable Kit"),
                 ("8-port", "24-port", "Wi-Fi 6", "Enterprise")),
    CategoryPlan("Cleaning", "CLN", "case", STANDARD_VAT, (25, 220),
                 ("Detergent", "Disinfectant", "Floor Cleaner", "Hand Soap", "Paper Towels"),
                 ("5L", "Refill", "Concentrate", "Hospital Grade")),
    CategoryPlan("Furniture", "FUR", "each", STANDARD_VAT, (300, 5000),
                 ("Office Chair", "Desk", "Filing Cabinet", "Bookshelf", "Meeting Table"),
                 ("Ergonomic", "Steel", "Oak", "Compact")),
    CategoryPlan("Appliances", "APL", "each", STANDARD_VAT, (200, 8000),
                 ("Air Purifier", "Water Dispenser", "Refrigerator", "Microwave", "Fan"),
                 ("Smart", "Energy Saver", "Large", "Commercial")),
    CategoryPlan("Medical Supplies", "MED", "box", REDUCED_VAT, (20, 900),
                 ("Face Masks", "Gloves", "Thermometer", "First Aid Kit", "Sanitizer"),
                 ("Disposable", "Nitrile", "Infrared", "Clinic")),
    CategoryPlan("Services", "SRV", "hour", SERVICE_VAT, (80, 1500),
                 ("Installation", "Maintenance", "Training", "Consulting", "Support Plan"),
                 ("Basic", "Standard", "Premium", "On-site")),
)
