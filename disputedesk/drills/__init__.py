"""Fault drills: drive real traffic through the public APIs of the four services running as OS
processes, break the broker, the database and the services in turn, then prove from each
service's own database that nothing accepted was lost or duplicated.

    disputedesk drill            # or `make drills`
"""
