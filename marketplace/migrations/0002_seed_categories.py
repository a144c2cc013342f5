from django.db import migrations
from django.utils.text import slugify

TREE = {
    "Women": ["Dresses", "Tops", "Jeans", "Coats & Jackets", "Shoes", "Bags", "Accessories"],
    "Men": ["Shirts", "Jeans", "Coats & Jackets", "Shoes", "Accessories"],
    "Kids": ["Girls", "Boys", "Baby"],
    "Home": ["Decor", "Bedding"],
}


def seed(apps, schema_editor):
    Category = apps.get_model("marketplace", "Category")
    for root_name, children in TREE.items():
        # Historical models lack Category.save(), so the path is spelled out here.
        root, _ = Category.objects.get_or_create(
            path=slugify(root_name), defaults={"name": root_name, "slug": slugify(root_name)}
        )
        for name in children:
            slug = slugify(name)
            Category.objects.get_or_create(
                path=f"{root.path}/{slug}", defaults={"name": name, "slug": slug, "parent": root}
            )


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
