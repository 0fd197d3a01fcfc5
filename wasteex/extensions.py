"""Extension objects, created unbound here and bound in the factory.

A leaf module: nothing in WasteEx is imported from it at import time except
these objects, so models and services never import the application package.
"""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from wasteex.api.base import WasteExApi
from wasteex.database import Base
from wasteex.replica import RoutingSession

db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
api = WasteExApi()
