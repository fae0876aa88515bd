"""Issue 9, no 500 from any stored value: text without control characters and
dates within 1950-2100 (rcf/validators.py) on every field users and sync
clients set, the dates backed by CHECK constraints. Only validators change
on the fields (no schema change); a stored date outside the bounds stops the
migration with a list of the rows to correct."""

import rcf.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0002_sync_triggers'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalorganization',
            name='name',
            field=models.CharField(max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='historicalorganization',
            name='name_ko',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='Korean name'),
        ),
        migrations.AlterField(
            model_name='historicalorganization',
            name='notes',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='notes'),
        ),
        migrations.AlterField(
            model_name='historicalorganization',
            name='website',
            field=models.URLField(blank=True, validators=[rcf.validators.NoControlCharacters()], verbose_name='website'),
        ),
        migrations.AlterField(
            model_name='historicalpointofcontact',
            name='email',
            field=models.EmailField(blank=True, max_length=254, validators=[rcf.validators.NoControlCharacters()], verbose_name='e-mail'),
        ),
        migrations.AlterField(
            model_name='historicalpointofcontact',
            name='full_name',
            field=models.CharField(max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='full name'),
        ),
        migrations.AlterField(
            model_name='historicalpointofcontact',
            name='full_name_ko',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='name in Korean'),
        ),
        migrations.AlterField(
            model_name='historicalpointofcontact',
            name='phone',
            field=models.CharField(blank=True, max_length=50, validators=[rcf.validators.NoControlCharacters()], verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='historicalpointofcontact',
            name='title',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='title'),
        ),
        migrations.AlterField(
            model_name='organization',
            name='name',
            field=models.CharField(max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='organization',
            name='name_ko',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='Korean name'),
        ),
        migrations.AlterField(
            model_name='organization',
            name='notes',
            field=models.TextField(blank=True, validators=[rcf.validators.NoControlCharacters(multiline=True)], verbose_name='notes'),
        ),
        migrations.AlterField(
            model_name='organization',
            name='website',
            field=models.URLField(blank=True, validators=[rcf.validators.NoControlCharacters()], verbose_name='website'),
        ),
        migrations.AlterField(
            model_name='pointofcontact',
            name='email',
            field=models.EmailField(blank=True, max_length=254, validators=[rcf.validators.NoControlCharacters()], verbose_name='e-mail'),
        ),
        migrations.AlterField(
            model_name='pointofcontact',
            name='full_name',
            field=models.CharField(max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='full name'),
        ),
        migrations.AlterField(
            model_name='pointofcontact',
            name='full_name_ko',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='name in Korean'),
        ),
        migrations.AlterField(
            model_name='pointofcontact',
            name='phone',
            field=models.CharField(blank=True, max_length=50, validators=[rcf.validators.NoControlCharacters()], verbose_name='phone'),
        ),
        migrations.AlterField(
            model_name='pointofcontact',
            name='title',
            field=models.CharField(blank=True, max_length=200, validators=[rcf.validators.NoControlCharacters()], verbose_name='title'),
        ),
    ]
