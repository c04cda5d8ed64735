#!/usr/bin/env python3
"""Fetch crainpaint's photo data set from Debian packages.

Every photo comes from a Debian 12 ("bookworm") package.  For each package in
PACKAGES the script runs ``apt-get download PKG`` into a cache folder (nothing is
installed system-wide), unpacks the .deb with ``dpkg -x`` into a temporary folder,
picks the files listed in PHOTOS (checked by size and sha256, so a changed
package is detected and reported), extracts the JPEG stored inside Enlightenment's
.edj (Eet) theme files where needed, and writes the photos, byte for byte as the
package ships them, to ``OUT/train/`` and ``OUT/validation/``.

The split is by photo and fixed here (column ``split``); it never depends on the
run.  The script is idempotent: photos already present with the right checksum
are skipped, and a package is only downloaded when one of its photos is missing.
``apt-get update`` is run only when ``apt-get download`` fails for lack of
package lists.

Usage:
    python experiments/data/fetch_photos.py [--out DIR] [--cache DIR]
    python experiments/data/fetch_photos.py --list        # print the manifest
    python experiments/data/fetch_photos.py --markdown    # print the data-card table

Needs: Debian's apt-get and dpkg (dpkg-deb), numpy and OpenCV (only to double
check that each written file decodes to the recorded pixel size).
The data card is experiments/data/README.md.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

DEFAULT_OUT = Path.home() / ".cache" / "crainpaint" / "data" / "photos"
DEFAULT_CACHE = Path.home() / ".cache" / "crainpaint" / "debs"
SPLITS = ("train", "validation")

# Package -> version the checksums below were recorded from (Debian 12 bookworm).
# A different version is reported; the photos are still accepted when their
# checksums match (wallpapers rarely change between package revisions).
PACKAGES = {
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lomiri-wallpapers-20.04": "20.04.0-2",
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "lxqt-themes": "1.2.0-1",
    "mate-backgrounds": "1.26.0-1",
    "enlightenment-data": "0.25.4-2",
    "sddm-theme-maldives": "0.19.0-5",
    "palapeli-data": "4:22.12.3-1",
    "puzzle-jigsaw": "1.0.2+git20201007.527c529+dfsg-4+b1",
}


@dataclass(frozen=True)
class Photo:
    id: str                 # output file stem; unique
    package: str
    path: str               # path inside the package (as unpacked by dpkg -x)
    size: int               # bytes of that file
    sha256: str             # of that file
    ext: str                # "jpg" or "png": format of the written photo
    width: int
    height: int
    split: str              # "train" or "validation"
    credit: str             # author / copyright line(s), from the package
    license: str            # as stated by the package
    member: Optional[str] = None          # Eet entry holding the photo (.edj files)
    member_size: Optional[int] = None     # bytes of that entry (a plain JPEG)
    member_sha256: Optional[str] = None

    @property
    def filename(self) -> str:
        return f"{self.id}.{self.ext}"

    @property
    def out_sha256(self) -> str:
        return self.member_sha256 if self.member else self.sha256

    @property
    def out_size(self) -> int:
        return self.member_size if self.member else self.size


T, V = "train", "validation"


def _p(*args, **kwargs) -> Photo:
    return Photo(*args, **kwargs)


PHOTOS = [
    _p('lomiri16-Bridge_by_Sander_Klootwijk', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg',
       914024, 'bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050', 'jpg', 4352, 2448, T,
       '2018. Sander Klootwijk',
       'CC-BY-SA-4.0'),
    _p('lomiri16-Dragonfly_by_Bolly', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/Dragonfly_by_Bolly.jpg',
       1520114, 'af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3', 'jpg', 4224, 3168, T,
       '"Bolly", 2018',
       'CC-BY-SA-4.0'),
    _p('lomiri16-Picture_0B_by_freespace', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/Picture_0B_by_freespace.jpg',
       740181, 'c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad', 'jpg', 2572, 1740, V,
       'Trevor "Freespace", 2018',
       'CC-BY-4.0'),
    _p('lomiri16-Picture_1A_by_freespace', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/Picture_1A_by_freespace.jpg',
       1181733, '89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b', 'jpg', 1365, 1074, T,
       'Trevor "Freespace", 2018',
       'CC-BY-4.0'),
    _p('lomiri16-Wine_by_Jakkub_Mede', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg',
       522397, 'd2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74', 'jpg', 2560, 3837, V,
       'Jakub Mede, 2018',
       'CC-BY-4.0'),
    _p('lomiri16-aitzgorri_by_Aitzol_Berasategi', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg',
       1072182, '66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36', 'jpg', 3088, 2056, T,
       'Aitzol Berasategi, 2018',
       'CC-BY-4.0'),
    _p('lomiri16-analogpattern_by_Peter_Nerlich', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg',
       912470, '15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202', 'jpg', 2880, 2160, T,
       'Peter Nerlich, 2018',
       'CC-BY-SA-4.0'),
    _p('lomiri16-free_by_Peter_Nerlich', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/free_by_Peter_Nerlich.jpg',
       722237, '85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373', 'jpg', 2880, 2160, T,
       'Peter Nerlich, 2018',
       'CC-BY-SA-4.0'),
    _p('lomiri16-friends_by_Aitzol_Berasategi', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg',
       575004, 'cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d', 'jpg', 2056, 3088, T,
       'Aitzol Berasategi, 2018',
       'CC-BY-4.0'),
    _p('lomiri16-greentock_by_Peter_Nerlich', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg',
       769018, 'e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889', 'jpg', 2880, 2160, T,
       'Peter Nerlich, 2018',
       'CC-BY-SA-4.0'),
    _p('lomiri16-life_by_Aitzol_Berasategi', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg',
       1720388, '4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05', 'jpg', 3088, 2056, T,
       'Aitzol Berasategi, 2018',
       'CC-BY-4.0'),
    _p('lomiri16-picosdeeuropa_by_Aitzol_Berasategi', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg',
       1826239, '414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a', 'jpg', 3264, 2448, T,
       'Aitzol Berasategi, 2018',
       'CC-BY-4.0'),
    _p('lomiri16-seeding_by_Clements_Engelhardt', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg',
       1485159, 'a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f', 'jpg', 5312, 2988, T,
       'Clemens Engelhardt, 2018',
       'CC0-1.0'),
    _p('lomiri16-sunset_by_Aitzol_Berasategi', 'lomiri-wallpapers-16.04', 'usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg',
       1109778, '474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18', 'jpg', 4272, 2848, V,
       'Aitzol Berasategi, 2018',
       'CC-BY-4.0'),
    _p('lomiri20-Kleiber_by_Lukas_Baubkus', 'lomiri-wallpapers-20.04', 'usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg',
       4379037, '6572410c09f4492c74ccadde133565a14c0161617d5917d4c820c66d65a44ba7', 'jpg', 6028, 3391, V,
       '2021, Lukas Baubkus',
       'CC-BY-SA-3.0'),
    _p('plasma-BytheWater', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg',
       494563, 'c272434ef39f2abf1ed48a15a8910088020f3165329a5092f3940ec9464bc05f', 'jpg', 2560, 1600, T,
       'Maciej Wiklo (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-ColdRipple', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg',
       526600, '05bef6722fc0ed81292cceb3ed026c38d17e510f3c84be7d68610c2b1a723c3f', 'jpg', 2560, 1600, T,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-ColorfulCups', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg',
       698472, '6e0f3a72feb5a4a9fec191b77e34874c3c69e2d93040deb3f07773e73385023d', 'jpg', 2560, 1600, T,
       'Dmitri Popov (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-DarkestHour', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg',
       318080, '8e3703fae3a3c217b1fc2b399b706cd3720584268d071ba153e4809daa55f1ce', 'jpg', 2560, 1600, T,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-EveningGlow', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg',
       632699, '586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a', 'jpg', 2560, 1600, V,
       'Ian Hex (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-FallenLeaf', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg',
       543137, '95603a6560c7e8d50e0e03b3f4adbe39c5258c72528e74e4ecaea1daf4e499de', 'jpg', 2560, 1600, T,
       'Martin Klapetek (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-Grey', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/Grey/contents/images/2560x1600.jpg',
       234512, '88c31d8944b7e6935d1b9a296654c692f0772cb512491713eb30a972a604c0ed', 'jpg', 2560, 1600, T,
       'Sigi Sagi (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-Kite', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/Kite/contents/images/2560x1600.jpg',
       487350, 'bdca288ce296a981e80659c021cf707caddc702c0c8d4247e60bd618476d47f8', 'jpg', 2560, 1600, T,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-OneStandsOut', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg',
       892075, 'cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd', 'jpg', 2560, 1600, T,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-Path', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/Path/contents/images/2560x1600.jpg',
       910087, '7477457d7f17b736259f1b021864778ad4ba802cf3214e6728181ff29126bba8', 'jpg', 2560, 1600, V,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('plasma-summer_1am', 'plasma-workspace-wallpapers', 'usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg',
       442791, 'c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8', 'jpg', 2560, 1600, T,
       'Risto Saukonpää (metadata.json); 2014 KDE Visual Design Group (debian/copyright)',
       'GPL-2+ (debian/copyright); metadata.json says LGPLv3'),
    _p('lxqt-Butterfly-Kenneth-Wimer', 'lxqt-themes', 'usr/share/lxqt/wallpapers/Butterfly-Kenneth-Wimer.jpg',
       98264, 'c237c26f6f0b18db3afa62a0eff13cb8208b79a1ef35aaadcb745d8f9faef146', 'jpg', 1920, 1278, T,
       'Kenneth Wimer (per file name); no per-file credit; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-Valendas', 'lxqt-themes', 'usr/share/lxqt/wallpapers/Valendas.png',
       2683975, 'f2d275c51d116942cea8e7d80d30c7d3c130349a0695caf2aa235f926ae15759', 'png', 1920, 1277, T,
       'no per-file credit; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-after-the-rain', 'lxqt-themes', 'usr/share/lxqt/wallpapers/after-the-rain.jpg',
       702458, 'e6cb8b3e09b904cc493ff17fddcd564d4e46a1761d05adf972c285a1fd878234', 'jpg', 3000, 1993, V,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-appleflower', 'lxqt-themes', 'usr/share/lxqt/wallpapers/appleflower.png',
       1529699, 'bae8a8eb8274b29509f1cbbfe250081331c5704a1fea25d5052166a0451e67f3', 'png', 3000, 1993, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-beam', 'lxqt-themes', 'usr/share/lxqt/wallpapers/beam.png',
       1886188, '3d199194b048cb793c0ad558337cda3e16f14cd054168d1d813620e24a0a5659', 'png', 2592, 1944, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-butterfly', 'lxqt-themes', 'usr/share/lxqt/wallpapers/butterfly.png',
       1453963, '13175434d99075e075de7321942e66169e3c99ac9416024dcf4123bd3b38749c', 'png', 3000, 1994, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-cloud', 'lxqt-themes', 'usr/share/lxqt/wallpapers/cloud.png',
       1332858, '522dbf79dfaff751cf8ef2f337c9d196a231fa096bc38806a76ce048b8c7b5a2', 'png', 2048, 1536, T,
       'no per-file credit; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-drop', 'lxqt-themes', 'usr/share/lxqt/wallpapers/drop.png',
       727009, '3b726aea9a6f8af36431c6f1974f982f7f4c5a4443499500bda31be27e4ffde8', 'png', 2000, 1333, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-flowers', 'lxqt-themes', 'usr/share/lxqt/wallpapers/flowers.png',
       3524867, '3a935d8be4d6c9784f9079ff2814acd2de2c8406e9fe584be03e90264f37c371', 'png', 3000, 1993, V,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-fog', 'lxqt-themes', 'usr/share/lxqt/wallpapers/fog.jpg',
       1057115, 'a8235344ee6b5ab1b6de3ccef731bcc0e6509cf33ce832db87eae1eb75987083', 'jpg', 2048, 1536, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('lxqt-this-is-not-windows', 'lxqt-themes', 'usr/share/lxqt/wallpapers/this-is-not-windows.jpg',
       1053941, '2d885e0438c0ab244f818d33d8f745a1cc486558462faf9bf3948675c68ac227', 'jpg', 2048, 1536, T,
       'stefonarch (standreas@riseup.net), per wallpapers/License; 2012-2022 LXQt team (debian/copyright), 2022 LXQt Project Team (wallpapers/License)',
       'LGPL-2.1+ (debian/copyright); wallpapers/License says CC-BY-SA-3.0'),
    _p('mate-Aqua', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Aqua.jpg',
       200353, '5c30118205982da441bf7e6a1ada636a8a0be879408140b3148280c665ed6bce', 'jpg', 2560, 1600, T,
       '2008, Charles Barbin',
       'GPL-2+'),
    _p('mate-Blinds', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Blinds.jpg',
       1157513, 'f7aac0dcc2e06d0491643e84df3da1d9db7c4610f58806a880d56e074799f600', 'jpg', 1920, 1200, T,
       '2008, Lennart Poettering; 2008, Andrea Cimitan',
       'GPL-2+'),
    _p('mate-Dune', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Dune.jpg',
       1021283, '8a67c2cb0be8c46b70c237311a4fa4d2b4ac7d39568135384787801fa5cc9a91', 'jpg', 1680, 1050, T,
       '2007, Marco Cogoni; 2008, Hylke Bons',
       'GPL-2+'),
    _p('mate-FreshFlower', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/FreshFlower.jpg',
       80905, '972b0a0c4e5e3fa93f4f244fc84bc64b121a5eac3aaa5856f1308c1f38a02f8e', 'jpg', 1600, 1203, T,
       '2005, Jens Ansorg',
       'GPL-2+'),
    _p('mate-Garden', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Garden.jpg',
       264831, 'd3095ee09d425ef23d27155412136cf14fc3c9af76ca58b452f55e23da324e78', 'jpg', 2560, 1600, T,
       '2008, Charles Barbin',
       'GPL-2+'),
    _p('mate-GreenMeadow', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/GreenMeadow.jpg',
       183377, '8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832', 'jpg', 1280, 1024, T,
       '2005, Timothy Schellhase; 2008, Lapo Calamandrei',
       'GPL-2+'),
    _p('mate-LadyBird', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/LadyBird.jpg',
       351588, 'e35a9a4126ef969c90b29c038058c5a575a20eadd84106a37bf1fa9931e7b61d', 'jpg', 2560, 1600, V,
       '2008, Charles Barbin',
       'GPL-2+'),
    _p('mate-RainDrops', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/RainDrops.jpg',
       1242241, '3e4ea9671c28c90a86cf67b3db9daf18c4741587c596333a7529ca589aaa0c16', 'jpg', 1920, 1200, T,
       '2008, "blackcombwhistler07"',
       'GPL-2+'),
    _p('mate-Storm', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Storm.jpg',
       695070, '77ca53077831d3237f73393a91fc879158abc046d852941c26e90de336356957', 'jpg', 1920, 1280, T,
       '2008, Sergey Nazarov',
       'GPL-2+'),
    _p('mate-TwoWings', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/TwoWings.jpg',
       881400, '665e5abf8a5399070a91a9a8e455fe071e5b61697ff78fdeda4e9843ef545aeb', 'jpg', 2560, 1600, T,
       '2008, Charles Barbin; 2008, Hylke Bons',
       'GPL-2+'),
    _p('mate-Wood', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/Wood.jpg',
       525520, '19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07', 'jpg', 2560, 1920, T,
       '2008, Jean-François Fortin Tam',
       'GPL-2+'),
    _p('mate-YellowFlower', 'mate-backgrounds', 'usr/share/backgrounds/mate/nature/YellowFlower.jpg',
       267440, '254da96256acb7add685679775a04d1e4a5bc8cd13e5a5a3d61351ce198a5306', 'jpg', 2560, 1600, T,
       '2008, Charles Barbin',
       'GPL-2+'),
    _p('e17-Bamboo', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Bamboo.edj',
       23693896, '53ea365cefdf42f49d68b1415a2255b74a8e4594fe78d7c39c5af60a6e897097', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=5198646, member_sha256='d8d003f6ebb4437bac4a579eadef7fdf4aae0144e443edd444c8af61bff17809'),
    _p('e17-Foggy-Trees', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Foggy-Trees.edj',
       10511829, '48d958e9f41a2d5af151ac9a6edfad34989e65d44a6602b55c9cf45ca5771ff8', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=2942935, member_sha256='6a1934df4d3d0d4cfc654bb125a9322b49188dabc519dd918a9fa71ef5c6ee0c'),
    _p('e17-God-Rays', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/God-Rays.edj',
       22726037, '95791b71c50280c52135b767cd8e14420b196c92e29162964badfd20968adae1', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=5831743, member_sha256='cb871506ee3d339d26bf382c5c9e98f1fa749bd99d7e5b6cb3a4cb849d50354d'),
    _p('e17-Green-Maple', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Green-Maple.edj',
       31482751, '78178a3f9af4372ac532c57cb9470209658ee3c21c381ccba5f7607dca090e46', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=6731074, member_sha256='4db2abb44fb3dec55f18fc4e4eb0f72e4af9fe7af9cce1d5573f926e49811b0e'),
    _p('e17-Lichen-Branches', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Lichen-Branches.edj',
       21733710, '2a2f3a09e02dbfa50757444bc3100c90b91e3cb053c4cf7731334ead7d34042a', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=4835569, member_sha256='08c9e543b99ec73ff73203bcfc5b8c3f9f0ec9c3aa2e8e94fdb2a640e5f6179a'),
    _p('e17-Mountain', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Mountain.edj',
       12476701, '9e05a784efaac919af789a0f89b4a5de711d1bac859ed971547d6cd09d54b75d', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=3125156, member_sha256='dcbef7e92cc196474f3b4eabf80b45a4dab0bdf8066deaf9ef565048bb72f8bb'),
    _p('e17-Peaks', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Peaks.edj',
       12689717, '25e7cd527440f434de0ac779a66d0a0704b5d0974405c60409beb257543f0ceb', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=3440342, member_sha256='4fea206973cdc79c91fa8045eb9201696f91f627c1b6760da0bed766e0a85549'),
    _p('e17-Red-Maple', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Red-Maple.edj',
       26452029, '53ea5bf96fe8227c18fd2f27536cf46fea33bdb3db8c154eb412ce1127c54882', 'jpg', 3840, 2160, V,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=5819442, member_sha256='bb6097ffef927fb219f7225da09df55ce2110a8c2b636d6e387802b9c1bf567e'),
    _p('e17-Sea-of-Lanterns', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Sea-of-Lanterns.edj',
       53088229, 'd880dc109bf6d4eb493feae612f61f63249ff494b3cbce9216646fe9d92109c0', 'jpg', 3840, 2059, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=11307701, member_sha256='e1a4db127d62346f2e7930abb5770caebe7ce6257afa7bc842a1e79a8dac4fe4'),
    _p('e17-Snow-Trees', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Snow-Trees.edj',
       50689509, '09da5c21c6ff02628c61bb6c60e0760a0b5996d022bfddbf0bed6ef620ce5b5b', 'jpg', 3840, 2160, V,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=11203162, member_sha256='3671426df1713ecd0165679ca5023eb5ad631d0c5a1b58386722cb020dc6f3cb'),
    _p('e17-Spruce-Needles', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Spruce-Needles.edj',
       23224053, 'e4ba168d17daffec459e96d09835462ef137d97dbdadda6f5a4e0eef46c83cca', 'jpg', 3838, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=5054314, member_sha256='fa3f06176b8c1ffc57964912c1faf512c845278f6d95addf6e4f0f56ef643d7e'),
    _p('e17-Sunset-Clouds', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Sunset-Clouds.edj',
       16092184, '9b2041d7107f966e036c0fc97ed40fda657f2930d2e37360ce46fbb216211c45', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=3924874, member_sha256='c99581ba894a81cc0169cc2b2656f80d0f7884787368ff21a15ac539af0ffd08'),
    _p('e17-White-Flower', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/White-Flower.edj',
       36222528, '6e464125ba760eda1aed776921b8e665fece221d327710e988129ac18dc0528d', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=8644349, member_sha256='a55797bf0a107c1f64725ec3a6d5cefcd617730831ec230bf16398e0a7100c46'),
    _p('e17-Yellow-Flower', 'enlightenment-data', 'usr/share/enlightenment/data/backgrounds/Yellow-Flower.edj',
       29066861, '28002bd39a732f6b6a4ef4335931a25cb73d2340b1d95da51e3a8b53b735baa2', 'jpg', 3840, 2160, T,
       '2000-2020 Carsten Haitzler and various contributors (see AUTHORS) (debian/copyright, Files: *)',
       'BSD-2-clause',
       member='edje/images/0', member_size=7674917, member_sha256='00b486e183927954465f42122b9462bcfebc0474d10ab790323d0e1cfe10fd9c'),
    _p('sddm-maldives', 'sddm-theme-maldives', 'usr/share/sddm/themes/maldives/background.jpg',
       1030555, '032d28ee4f3d885e9340ae430457fd59341e9fbf8ca45502d86ad14362ffb4a0', 'jpg', 2592, 1754, V,
       '2008, Nevit Dilmen, http://commons.wikimedia.org/wiki/User:Nevit',
       'CC-BY-3.0'),
    _p('palapeli-castle-maintenon', 'palapeli-data', 'usr/share/palapeli/collection/castle-maintenon.jpg',
       140024, 'f4a6bf48b97d97715413f9ebd2d8744bd46df0e492bc8326e2513d51084f2612', 'jpg', 1024, 681, T,
       'Eric Pouhier (puzzle .desktop file)',
       'GPL-2+ (debian/copyright, Files: *); .desktop says FDL'),
    _p('palapeli-cincinnati-bridge', 'palapeli-data', 'usr/share/palapeli/collection/cincinnati-bridge.jpg',
       191674, '09772d09318b34a5c5edd58ee86ff462bcd2907006f31cc8e0704310f8e9ab60', 'jpg', 1302, 953, V,
       'Derek Jensen (puzzle .desktop file)',
       'GPL-2+ (debian/copyright, Files: *); .desktop says Public Domain'),
    _p('palapeli-citrus-fruits', 'palapeli-data', 'usr/share/palapeli/collection/citrus-fruits.jpg',
       226654, '0cbd7154a14789803167c86705130d0358875198231269df168ea26224e70848', 'jpg', 1350, 890, T,
       'US Department of Agriculture (puzzle .desktop file)',
       'GPL-2+ (debian/copyright, Files: *); .desktop says Public Domain'),
    _p('palapeli-european-honey-bee', 'palapeli-data', 'usr/share/palapeli/collection/european-honey-bee.jpg',
       237723, '9d54ae706bddd899c91b2b801d9ca4556a5a9a399b4043f9d539df62a8cb7f27', 'jpg', 1620, 1280, T,
       'John Severns (puzzle .desktop file)',
       'GPL-2+ (debian/copyright, Files: *); .desktop says Public Domain'),
    _p('palapeli-panther-chameleon-female', 'palapeli-data', 'usr/share/palapeli/collection/panther-chameleon-female.jpg',
       304795, 'adb9e2834a8a3db40ca3817452b956ada527085e5aa2bd604c465651a3834ae4', 'jpg', 1306, 1530, T,
       'B. Navez and others (puzzle .desktop file)',
       'GPL-2+ (debian/copyright, Files: *); .desktop says GNU-FDL'),
    _p('jigsaw-cat', 'puzzle-jigsaw', 'usr/share/puzzle-jigsaw/samples/cat-animal-cat-portrait-mackerel.jpg',
       103591, 'da9c088b2fc6bccec8dae50bbd54e610772c4bb53cc608b030395df27a29fe7c', 'jpg', 1001, 648, T,
       '2016-2017 Pexels <www.pexels.com>',
       'CC0-1.0'),
    _p('jigsaw-tiger', 'puzzle-jigsaw', 'usr/share/puzzle-jigsaw/samples/pexels-photo-302304.jpeg',
       54386, '020c7820cd34bdc631d0c3a081b9a30b1a41a0bfc438c4859ccdd60c37bdeaa4', 'jpg', 1001, 648, T,
       '2016-2017 Pexels <www.pexels.com>',
       'CC0-1.0'),
]

assert len({p.id for p in PHOTOS}) == len(PHOTOS), "duplicate photo id"
assert all(p.package in PACKAGES for p in PHOTOS)


# --------------------------------------------------------------------------- Eet
EET_MAGIC_FILE = 0x1EE70F42


def eet_entries(data: bytes) -> dict:
    """Directory of an Eet archive (format of Enlightenment's .edj files).

    Header: magic, number of entries, number of dictionary entries (big-endian
    int32).  Then one record per entry: offset, stored size, uncompressed size,
    name offset, name size, flags.  Returns {name: (offset, size, flags)}.
    """
    if len(data) < 12:
        raise ValueError("too short for an Eet file")
    magic, n_entries, _n_dict = struct.unpack(">3i", data[:12])
    if magic != EET_MAGIC_FILE:
        raise ValueError(f"not an Eet file (magic {magic:#x})")
    out = {}
    for i in range(n_entries):
        rec = data[12 + 24 * i: 36 + 24 * i]
        if len(rec) < 24:
            raise ValueError("truncated Eet directory")
        off, size, _dsize, noff, nsize, flags = struct.unpack(">6i", rec)
        name = data[noff:noff + nsize].rstrip(b"\0").decode("utf-8", "replace")
        out[name] = (off, size, flags)
    return out


def eet_jpeg_member(data: bytes, member: str) -> bytes:
    """The bytes of one Eet entry that stores a plain (uncompressed) JPEG.

    Edje stores images compiled as ``LOSSY`` without alpha as a bare JPEG stream
    (flags 0: not compressed, not ciphered), so the entry is a complete .jpg.
    """
    entries = eet_entries(data)
    if member not in entries:
        raise ValueError(f"no entry {member!r} (has {sorted(entries)[:8]}...)")
    off, size, flags = entries[member]
    blob = data[off:off + size]
    if flags != 0 or blob[:3] != b"\xff\xd8\xff" or blob[-2:] != b"\xff\xd9":
        raise ValueError(f"entry {member!r} is not a plain JPEG (flags {flags:#x})")
    return blob


# ------------------------------------------------------------------------- helpers
def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log(msg: str) -> None:
    print(msg, flush=True)


class FetchError(RuntimeError):
    pass


def _run(cmd: list, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise FetchError(f"{cmd[0]} not found: this recipe needs Debian's apt-get and dpkg "
                         f"(run it on a Debian or Debian-based machine)") from e


_LIST_ERRORS = ("Unable to locate package", "has no installation candidate",
                "Can't select candidate version", "No packages found")
_updated = False


def _apt_update() -> None:
    global _updated
    _updated = True
    log("  apt-get download found no such package: running `apt-get update` once ...")
    if os.geteuid() != 0:
        raise FetchError("package lists are missing or stale and `apt-get update` needs root: "
                         "run `sudo apt-get update`, then run this script again")
    r = _run(["apt-get", "update"])
    if r.returncode != 0:
        raise FetchError(f"`apt-get update` failed (exit {r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")


def _stderr_tail(r: subprocess.CompletedProcess) -> str:
    lines = [l for l in (r.stderr or "").splitlines() if "unsandboxed" not in l]
    return "\n".join(lines[-15:])


def _cached_debs(cache: Path, package: str) -> list:
    return sorted(glob.glob(str(cache / f"{package}_*.deb")), key=os.path.getmtime)


def deb_field(deb: Path, field: str) -> str:
    r = _run(["dpkg-deb", "-f", str(deb), field])
    if r.returncode != 0:
        raise FetchError(f"dpkg-deb cannot read {deb}: {r.stderr.strip()}")
    return r.stdout.strip()


def fetch_deb(package: str, cache: Path) -> Path:
    """Path of PACKAGE's .deb in CACHE, downloading it with `apt-get download` if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    want = PACKAGES[package]
    for deb in reversed(_cached_debs(cache, package)):
        try:
            if deb_field(Path(deb), "Version") == want:
                log(f"  using cached {os.path.basename(deb)}")
                return Path(deb)
        except FetchError:
            os.remove(deb)  # a truncated download: fetch it again
    before = set(_cached_debs(cache, package))
    for attempt in (1, 2):
        log(f"  apt-get download {package} (into {cache})")
        r = _run(["apt-get", "download", package], cwd=cache)
        if r.returncode == 0:
            break
        text = (r.stdout or "") + (r.stderr or "")
        if attempt == 1 and not _updated and any(s in text for s in _LIST_ERRORS):
            _apt_update()
            continue
        raise FetchError(f"`apt-get download {package}` failed (exit {r.returncode}):\n{_stderr_tail(r)}\n"
                         f"Check the network access to the Debian archive and /etc/apt/sources.list*; "
                         f"this data set was recorded from Debian 12 (bookworm) packages.")
    debs = _cached_debs(cache, package)
    new = [d for d in debs if d not in before] or debs
    if not new:
        raise FetchError(f"apt-get download {package} reported success but no .deb is in {cache}")
    deb = Path(new[-1])
    got = deb_field(deb, "Version")
    if got != want:
        log(f"  WARNING: {package} is version {got}, the manifest was recorded from {want}; "
            f"checking every photo's checksum")
    return deb


def unpack(deb: Path, dest: Path) -> None:
    r = _run(["dpkg", "-x", str(deb), str(dest)])
    if r.returncode != 0:
        raise FetchError(f"`dpkg -x {deb}` failed: {r.stderr.strip()}")


def photo_bytes(p: Photo, root: Path) -> bytes:
    """The photo's bytes from an unpacked package, checked against the manifest."""
    src = root / p.path
    if not src.is_file():
        raise FetchError(f"{p.id}: {p.path} is not in package {p.package} any more")
    data = src.read_bytes()
    if len(data) != p.size or sha256_bytes(data) != p.sha256:
        raise FetchError(f"{p.id}: {p.package}:{p.path} changed (size {len(data)} vs {p.size}, "
                         f"sha256 {sha256_bytes(data)[:16]}... vs {p.sha256[:16]}...): "
                         f"the package was updated; re-check the photo and update PHOTOS")
    if p.member:
        try:
            data = eet_jpeg_member(data, p.member)
        except ValueError as e:
            raise FetchError(f"{p.id}: cannot extract {p.member} from {p.path}: {e}") from e
        if sha256_bytes(data) != p.member_sha256:
            raise FetchError(f"{p.id}: extracted {p.member} has an unexpected checksum")
    return data


def check_decodes(p: Photo, data: bytes) -> None:
    try:
        import cv2
        import numpy as np
    except ImportError:  # the checksum already pins the bytes; decoding is a bonus check
        return
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.shape[:2] != (p.height, p.width):
        raise FetchError(f"{p.id}: does not decode to {p.width}x{p.height}")


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def present(out: Path, p: Photo) -> bool:
    f = out / p.split / p.filename
    return f.is_file() and f.stat().st_size == p.out_size and sha256_file(f) == p.out_sha256


def clean_wrong_split(out: Path) -> None:
    """Remove manifest photos that sit in the wrong split folder (split leak)."""
    by_name = {p.filename: p for p in PHOTOS}
    for split in SPLITS:
        d = out / split
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            p = by_name.get(f.name)
            if p is not None and p.split != split:
                log(f"removing {f} (its split is {p.split})")
                f.unlink()
            elif p is None and not f.name.startswith("."):
                log(f"note: {f} is not in the manifest (left alone)")


def write_manifest(out: Path) -> None:
    rows = []
    for p in PHOTOS:
        if not (out / p.split / p.filename).is_file():
            continue
        d = asdict(p)
        d["file"] = f"{p.split}/{p.filename}"
        d["version"] = PACKAGES[p.package]
        rows.append(d)
    write_atomic(out / "manifest.json", (json.dumps(rows, indent=1, ensure_ascii=False) + "\n").encode())


def fetch(out: Path, cache: Path, keep_debs: bool) -> int:
    for split in SPLITS:
        (out / split).mkdir(parents=True, exist_ok=True)
    clean_wrong_split(out)
    missing = [p for p in PHOTOS if not present(out, p)]
    log(f"{len(PHOTOS) - len(missing)}/{len(PHOTOS)} photos already in {out}")
    errors = []
    packages = [pkg for pkg in PACKAGES if any(p.package == pkg for p in missing)]
    for i, pkg in enumerate(packages, 1):
        todo = [p for p in missing if p.package == pkg]
        log(f"[{i}/{len(packages)}] {pkg}: {len(todo)} photo(s) to extract")
        try:
            deb = fetch_deb(pkg, cache)
            with tempfile.TemporaryDirectory(prefix="crainpaint-deb-") as tmp:
                unpack(deb, Path(tmp))
                for p in todo:
                    try:
                        data = photo_bytes(p, Path(tmp))
                        check_decodes(p, data)
                        write_atomic(out / p.split / p.filename, data)
                        log(f"  {p.split}/{p.filename}  {p.width}x{p.height}  {len(data) / 1e6:.1f} MB")
                    except FetchError as e:
                        errors.append(str(e))
                        log(f"  ERROR: {e}")
            if not keep_debs:
                deb.unlink()
        except FetchError as e:
            errors.append(f"{pkg}: {e}")
            log(f"  ERROR: {e}")
    write_manifest(out)
    for split in SPLITS:
        ps = [p for p in PHOTOS if p.split == split and (out / split / p.filename).is_file()]
        size = sum((out / split / p.filename).stat().st_size for p in ps)
        log(f"{split}: {len(ps)} photos, {size / 1e6:.1f} MB in {out / split}")
    if errors:
        log(f"{len(errors)} error(s):\n  " + "\n  ".join(errors))
        return 1
    log("done")
    return 0


def markdown_table() -> str:
    lines = ["| # | file (split/id) | package (version) | path inside the package | pixels | credit | licence |",
             "|---|---|---|---|---|---|---|"]
    for i, p in enumerate(sorted(PHOTOS, key=lambda p: (p.split != "validation", p.package, p.id)), 1):
        path = f"`{p.path}`" + (f" → Eet entry `{p.member}`" if p.member else "")
        lines.append(f"| {i} | `{p.split}/{p.filename}` | {p.package} ({PACKAGES[p.package]}) | {path} | "
                     f"{p.width}×{p.height} | {p.credit} | {p.license} |")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help=f"where the downloaded .deb files are kept (default {DEFAULT_CACHE})")
    ap.add_argument("--no-keep-debs", action="store_true",
                    help="delete each .deb after extracting it (saves ~600 MB; a rerun downloads again)")
    ap.add_argument("--list", action="store_true", help="print the manifest as JSON and exit")
    ap.add_argument("--markdown", action="store_true", help="print the data-card table and exit")
    a = ap.parse_args(argv)
    if a.list:
        print(json.dumps([asdict(p) for p in PHOTOS], indent=1, ensure_ascii=False))
        return 0
    if a.markdown:
        print(markdown_table())
        return 0
    try:
        return fetch(a.out.expanduser(), a.cache.expanduser(), keep_debs=not a.no_keep_debs)
    except FetchError as e:
        log(f"ERROR: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
